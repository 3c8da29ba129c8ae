"""Building a policy's view from an offline plan (tests, `ukdac policy check`)."""

from __future__ import annotations

from policies.rules import Resource, StackView


def from_plan(
    plan: object, admin_cidrs: tuple[str, ...], allowed: frozenset[str] = frozenset()
) -> StackView:
    """A StackView of an offline plan (`infra.plan.model.Plan`); masked secrets stay masked."""
    from infra.plan.model import Plan

    assert isinstance(plan, Plan)
    return StackView(
        stack=plan.stack,
        environment=str(plan.outputs.get("environment", "")),
        admin_cidrs=admin_cidrs,
        resources=tuple(
            Resource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                props=r.inputs,
                protect=bool(r.options.get("protect")),
                retain_on_delete=bool(r.options.get("retainOnDelete")),
            )
            for r in plan.resources
        ),
        outputs=plan.outputs,
        secrets_visible=True,
        retain_visible=True,
        allowed=allowed,
    )
