"""The PolicyPack: each rule of `policies/rules.py` as a mandatory stack policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policies.rules import POLICIES, UNKNOWN, Policy, Resource, StackView

CONFIG = PolicyConfigSchema(
    properties={
        "environment": {"type": "string", "enum": ["sandbox", "dev", "test", "prod"]},
        "adminCidrs": {"type": "array", "items": {"type": "string"}},
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
    required=["environment", "adminCidrs"],
)


def known(value: Any) -> Any:
    """Plain data from the engine's properties, UNKNOWN where a preview cannot know a value.

    The pack's proxies raise on an unknown value, and pulumi_policy then skips the whole
    policy ("can't run policy during preview"): a new environment's preview went unchecked.
    """

    if isinstance(value, Mapping):
        return {key: _entry(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_entry(value, index) for index in range(len(value))]
    return value


def _entry(container: Any, key: Any) -> Any:
    try:
        return known(container[key])
    except UnknownValueError:
        return UNKNOWN


def program_props(props: Mapping[str, Any], property_dependencies: Mapping[str, Any]) -> Any:
    """What the program declared: `known(props)` less the unknowns the provider computes.

    In a preview, a property the program left unset that the provider fills in at apply time
    (a security rule's `remoteGroupId` beside its `remoteIpPrefix`) is unknown as well; it
    is told apart from an unknown the program passed (another resource's output) by having no
    property dependency, and left out, as it is in the program.
    """
    plain = known(props)
    return {
        key: value
        for key, value in plain.items()
        if not (value == UNKNOWN and not property_dependencies.get(key))
    }


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
                props=program_props(r.props, r.property_dependencies or {}),
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
