"""The PolicyPack: each rule of `policies/rules.py` as a mandatory stack policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules import POLICIES, Policy, Resource, StackView

CONFIG = PolicyConfigSchema(
    properties={
        "environment": {"type": "string", "enum": ["sandbox", "dev", "test", "prod"]},
        "adminCidrs": {"type": "array", "items": {"type": "string"}},
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
    required=["environment", "adminCidrs"],
)


def view_of(args: StackValidationArgs) -> StackView:
    config = args.get_config()
    return StackView(
        stack="",
        environment=str(config.get("environment", "")),
        admin_cidrs=tuple(config.get("adminCidrs", ())),
        allowed=frozenset(config.get("allowed", ())),
        resources=tuple(
            Resource(
                urn=r.urn,
                type=r.resource_type,
                name=r.name,
                props=r.props,
                protect=r.opts.protect,
            )
            for r in args.resources
        ),
    )


def validator(policy: Policy) -> Callable[[StackValidationArgs, Any], None]:
    def validate(args: StackValidationArgs, report_violation: Any) -> None:
        for violation in policy.run(view_of(args)):
            report_violation(
                violation.message, None if violation.urn.startswith("output:") else violation.urn
            )

    return validate


def build_pack() -> None:
    """Register the pack with the policy analyzer (serves until the engine is done)."""
    PolicyPack(
        name="ukdac",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=[
            StackValidationPolicy(
                name=policy.name,
                description=policy.description,
                validate=validator(policy),
                config_schema=CONFIG,
            )
            for policy in POLICIES
        ],
    )


if __name__ == "__main__":
    build_pack()
