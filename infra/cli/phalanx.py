"""`ukdac phalanx-values` and `ukdac secrets`: what phalanx gets from a stack file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from infra.cli.common import deployment, out, reports_errors
from infra.ops.pulumi_cli import read_stack_outputs
from infra.stack.phalanx import application_values, environment_values, vault_secrets


@reports_errors
def phalanx_values(
    stack: Annotated[str, typer.Argument(help="Stack name.")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Write the files into this phalanx checkout.")
    ] = None,
) -> None:
    """The phalanx values ukdac derives: the environment file and per-application values."""
    d = deployment(stack)
    env = d.config.phalanx.environment
    files = {f"environments/values-{env}.yaml": environment_values(d)}
    for app_name, values in application_values(d).items():
        files[f"applications/{app_name}/values-{env}.yaml"] = values
    for path, values in files.items():
        text = f"# Written by ukdac from stacks/Pulumi.{stack}.yaml\n" + yaml.safe_dump(
            values, sort_keys=False
        )
        if output_dir:
            target = output_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            out.print(f"wrote {target}")
        else:
            sys.stdout.write(f"--- # {path}\n{text}")


@reports_errors
def secrets(
    stack: Annotated[str, typer.Argument(help="Stack name.")],
    show: Annotated[
        bool, typer.Option(help="Show the values (reads the deployed stack's outputs).")
    ] = False,
) -> None:
    """Which Vault paths and keys phalanx expects, and which stack output holds each value."""
    d = deployment(stack)
    values: dict[str, str] = {}
    if show:
        values = read_stack_outputs(stack, [output for *_, output in vault_secrets(d)])
    table = Table(title=f"Vault secrets for {stack} ({d.vault_url})", title_justify="left")
    table.add_column("path")
    table.add_column("key")
    table.add_column("value")
    table.add_column("from stack output")
    for path, key, output in vault_secrets(d):
        table.add_row(path, key, values.get(output, "********"), output)
    out.print(table)
    if not show:
        out.print("Values are masked; --show reads them from the deployed stack.")
