"""`ukdac policy-config` and `ukdac policy-check`: the policy pack, offline."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from infra.cli.common import (
    current_project,
    deployment,
    err,
    labelled,
    out,
    reports_errors,
    stack_names,
)
from policies.rules import POLICIES
from policies.rules import run_all as run_policies
from policies.views import from_plan as view_from_plan


def policy_names() -> list[str]:
    return [policy.name for policy in POLICIES]


@reports_errors
def policy_config(stack: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """The policy pack's config for a stack (`pulumi preview --policy-pack-config FILE`)."""
    d = deployment(stack)
    config = {
        "environment": d.config.environment,
        "adminCidrs": [str(c) for c in d.config.cloud.admin_cidrs],
        "allowed": sorted(a.resource for a in d.config.allow),
    }
    sys.stdout.write(json.dumps({name: config for name in policy_names()}, indent=2) + "\n")


@reports_errors
def policy_check(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
) -> None:
    """Run the policy pack's rules over the offline plans (exit 1 on any violation)."""
    from infra.plan.engine import plan_stack  # the mock runtime: only when a plan is made

    project = current_project()
    failed = False
    for name in stack_names(project, stacks, every):
        d = deployment(name)
        view = view_from_plan(
            plan_stack(project, name),
            tuple(str(c) for c in d.config.cloud.admin_cidrs),
            frozenset(a.resource for a in d.config.allow),
        )
        violations = run_policies(view)
        for violation in violations:
            message = f"{violation.policy}: {violation.message}"
            err.print(labelled(name, "red", message), soft_wrap=True)
        if not violations:
            out.print(labelled("ok", "green", f"{name}: {len(policy_names())} policies"))
        failed = failed or bool(violations)
    if failed:
        raise typer.Exit(1)
