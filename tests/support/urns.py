"""URNs as the engine computes them, for identities the offline plan only implies (aliases)."""

from __future__ import annotations

from infra.plan.engine import ROOT_STACK_TYPE
from infra.plan.model import PlannedResource


def _urn(
    resource: PlannedResource, *, type_: str | None, name: str | None, parent: str | None
) -> str:
    """The URN `resource` would have with another type, name or parent (None: its own)."""
    stack, project, chain_text, own_name = resource.urn.split("::", 3)
    chain = chain_text.split("$")
    if parent is not None:
        parent_chain = parent.split("::", 3)[2]
        ancestry = [] if parent_chain == ROOT_STACK_TYPE else parent_chain.split("$")
        chain = [*ancestry, chain[-1]]
    if type_ is not None:
        chain[-1] = type_
    return f"{stack}::{project}::{'$'.join(chain)}::{name or own_name}"


def alias_urns(resource: PlannedResource) -> set[str]:
    """The old identities a resource claims through its aliases."""
    found = set()
    for alias in resource.options.get("aliases", []):
        if "urn" in alias:
            found.add(alias["urn"])
            continue
        spec = alias.get("spec", {})
        found.add(
            _urn(
                resource,
                type_=spec.get("type"),
                name=spec.get("name"),
                parent=spec.get("parentUrn") if spec.get("parentUrn") else None,
            )
        )
    return found
