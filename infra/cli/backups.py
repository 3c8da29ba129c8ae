"""`ukdac backups env`: rclone set up to list and fetch a stack's snapshots."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli.common import out, reports_errors

# The services (the pulumi CLI adapter, the snapshot settings' SDK imports) load in the
# command: every `ukdac` command pays only for its own imports.

app = typer.Typer(help="Backups: reach a stack's snapshots from outside its cluster.")


@reports_errors
def backups_env(
    stack: Annotated[str, typer.Argument(help="The deployed stack, e.g. ukdac-prod.")],
    prefix: Annotated[str, typer.Option(help="Which snapshots: etcd or vault.")] = "etcd",
) -> None:
    """Print `export` lines that set rclone up as the snapshot jobs are, from the stack's
    outputs: `eval "$(ukdac backups env ukdac-prod)"`, then `rclone lsl safe:`. They hold
    the S3 keys and the passphrase: evaluate them, never save them."""
    from infra.ops.backups import rclone_environment, shell_exports
    from infra.ops.pulumi_cli import stack_outputs

    environment = rclone_environment(stack, stack_outputs(stack), prefix)
    out.file.write(shell_exports(environment))


app.command("env")(backups_env)
