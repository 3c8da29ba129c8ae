"""The `ukdac` Typer application: every command, registered here and only here."""

from __future__ import annotations

import typer

from infra.cli import backups, config, ops, phalanx, plans, policy, sandbox

app = typer.Typer(
    help="Plan, check and diff the LSST:UK Data Access Centre's Pulumi stacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(plans.plan)
app.command()(plans.diff)
app.add_typer(config.app, name="config")
app.command("phalanx-values")(phalanx.phalanx_values)
app.command()(phalanx.secrets)
app.command("policy-config")(policy.policy_config)
app.command("policy-check")(policy.policy_check)
app.command()(ops.preflight)
app.command()(ops.cleanup)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(backups.app, name="backups")
