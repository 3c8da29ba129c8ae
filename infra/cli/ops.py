"""`ukdac preflight` and `ukdac cleanup`: checks and clean-up against a real cloud."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from infra.cli.common import (
    current_project,
    deployment,
    err,
    labelled,
    out,
    progress,
    reports_errors,
)
from infra.errors import UkdacError

# The services (openstacksdk, the mock runtime) are imported by the command that uses them:
# every `ukdac` command pays only for its own imports.


def preflight_passes(stack: str) -> bool:
    """Print the preflight table of a stack; whether every check passed."""
    from infra.ops.cloud import connect
    from infra.ops.preflight import run_preflight
    from infra.plan.engine import plan_stack

    project = current_project()
    d = deployment(stack)
    plan = plan_stack(project, stack)
    cloud = connect(d.config.cloud.name, d.config.cloud.region)
    with progress(f"preflight {stack}: asking cloud '{cloud.name}'"):
        checks = run_preflight(cloud, d, plan, os.environ.get("PULUMI_BACKEND_URL"))
    table = Table(title=f"preflight {stack} on cloud '{cloud.name}'", title_justify="left")
    for column in ("check", "need", "available", "verdict"):
        table.add_column(column)
    for check in checks:
        verdict = labelled("ok", "green") if check.ok else labelled("SHORT", "red")
        table.add_row(check.name, check.need, check.available, verdict)
    out.print(table)
    out.print(f"{cloud.requests} API requests")
    failed = [c for c in checks if not c.ok]
    for check in failed:
        message = f"{check.name}: needs {check.need}, has {check.available}"
        err.print(labelled("shortfall:", "red", message), soft_wrap=True)
    return not failed


@reports_errors
def preflight(stack: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """Before `pulumi up`: image, flavors, network, keypair, quotas, services (exit 1 if short)."""
    if not preflight_passes(stack):
        raise typer.Exit(1)


@reports_errors
def cleanup(
    stack: Annotated[str, typer.Argument(help="Stack name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Delete what was found.")] = False,
    force_prod: Annotated[bool, typer.Option(help="Allow this on a prod stack.")] = False,
) -> None:
    """Find (and with --yes delete) what Kubernetes made outside Pulumi's state."""
    from infra.ops.cleanup import controller_names, delete_leftovers, find_leftovers
    from infra.ops.cloud import connect

    d = deployment(stack)
    if d.config.environment == "prod" and not force_prod:
        raise UkdacError(f"{stack} is prod: cleanup refuses without --force-prod")
    cloud = connect(d.config.cloud.name, d.config.cloud.region)
    with progress(f"looking for what Kubernetes left in {stack}"):
        leftovers = find_leftovers(
            cloud, d.names.cluster, d.names.network, controller_names(cloud, d)
        )
    table = Table(title=f"left by Kubernetes in {stack}", title_justify="left")
    for column in ("kind", "name", "id", "why it belongs to the stack"):
        table.add_column(column)
    for item in leftovers:
        table.add_row(item.kind, item.name, item.id, item.reason)
    out.print(table if leftovers else f"nothing left by Kubernetes for {stack}")
    if leftovers and yes:
        for line in delete_leftovers(cloud, leftovers):
            out.print(line)
    elif leftovers:
        out.print("dry run: --yes deletes these")
