"""`ukdac config ...`: the stack files' schema, reference, checks and effective values."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import current_project, err, labelled, out, reports_errors, stack_names
from infra.errors import ConfigError
from infra.stack.deployment import Deployment
from infra.stack.files import load_stack_file
from infra.stack.reference import render as render_config_docs
from infra.stack.rules import shared_projects
from infra.stack.schema import stack_file_schema
from infra.stack.validation import effective_config, validate_stack_file

app = typer.Typer(help="The stack configuration: schema, checks, effective values.")


def config_schema() -> None:
    """Print the JSON Schema of a stack file."""
    sys.stdout.write(json.dumps(stack_file_schema(), indent=2) + "\n")


def config_docs(
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Generate the configuration reference (docs/configuration.md)."""
    text = render_config_docs()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@reports_errors
def config_check(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
) -> None:
    """Validate stack files: every problem at once, with the key path and what is allowed."""
    project = current_project()
    failures: list[ConfigError] = []
    valid: dict[str, Deployment] = {}
    for name in stack_names(project, stacks, every):
        stack_file = load_stack_file(project, name)
        try:
            valid[name] = validate_stack_file(stack_file)
            out.print(labelled("ok", "green", stack_file.display))
        except ConfigError as problem:
            failures.append(problem)
    shared = shared_projects(valid)
    for failure in failures:
        err.print(failure.render(), soft_wrap=True)
    for message in shared:
        err.print(labelled("error:", "red", message), soft_wrap=True)
    if failures or shared:
        raise typer.Exit(2)


@reports_errors
def config_show(stack: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """Print the effective configuration of a stack and where each value comes from."""
    stack_file = load_stack_file(current_project(), stack)
    environment = validate_stack_file(stack_file).config.environment
    table = Table(title=f"{stack} ({environment})", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    table.add_column("from")
    for key, (value, origin) in effective_config(stack_file).items():
        table.add_row(key, json.dumps(value), origin)
    out.print(table)


app.command("schema")(config_schema)
app.command("docs")(config_docs)
app.command("check")(config_check)
app.command("show")(config_show)
