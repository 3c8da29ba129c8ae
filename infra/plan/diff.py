"""What changes between two plans of a stack: resources added, removed and changed.

Resources are matched by URN. A change lists each leaf that differs (inputs, options,
parent, provider, dependencies), so a reviewer sees `inputs.cidr: 10.10.0.0/24 ->
10.11.0.0/24` rather than two blobs. Secrets stay as the plans hold them: masked. Plan
warnings a change brings or clears are part of the difference; standing ones are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.plan.model import Plan, PlannedResource


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    """One value that differs; ABSENT on the side where it does not exist."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceDiff:
    """What happens to one resource."""

    kind: Literal["add", "remove", "change"]
    urn: str
    type: str
    name: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class StackDiff:
    """The difference between a base and a head plan of one stack."""

    stack: str
    base_exists: bool
    head_exists: bool
    resources: tuple[ResourceDiff, ...] = ()
    outputs: tuple[Change, ...] = field(default=())
    # Plan warnings the head has and the base had not, and the reverse.
    new_warnings: tuple[str, ...] = ()
    resolved_warnings: tuple[str, ...] = ()

    def of_kind(self, kind: str) -> list[ResourceDiff]:
        return [r for r in self.resources if r.kind == kind]

    @property
    def added(self) -> list[ResourceDiff]:
        return self.of_kind("add")

    @property
    def removed(self) -> list[ResourceDiff]:
        return self.of_kind("remove")

    @property
    def changed(self) -> list[ResourceDiff]:
        return self.of_kind("change")

    @property
    def empty(self) -> bool:
        return (
            not self.resources
            and not self.outputs
            and not self.new_warnings
            and not self.resolved_warnings
            and self.base_exists == self.head_exists
        )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def value_changes(before: Any, after: Any, path: str = "") -> Iterator[Change]:
    """Every leaf that differs between two JSON values."""
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from value_changes(
                before.get(key, ABSENT), after.get(key, ABSENT), _join(path, key)
            )
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from value_changes(old, new, _join(path, index))
    else:
        yield Change(path, before, after)


def _facets(resource: PlannedResource) -> dict[str, Any]:
    return {
        "parent": resource.parent,
        "provider": resource.provider,
        "dependencies": resource.dependencies,
        "options": resource.options,
        "inputs": resource.inputs,
    }


def diff_plans(base: Plan | None, head: Plan | None) -> StackDiff:
    """Compare two plans of one stack; either may be None (stack added or removed)."""
    if base is None and head is None:
        raise ValueError("nothing to compare")
    stack = (head or base).stack  # type: ignore[union-attr]
    old = base.by_urn() if base else {}
    new = head.by_urn() if head else {}
    diffs: list[ResourceDiff] = []
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            r = new[urn]
            diffs.append(ResourceDiff("add", urn, r.type, r.name))
        elif urn not in new:
            r = old[urn]
            diffs.append(ResourceDiff("remove", urn, r.type, r.name))
        else:
            changes = tuple(value_changes(_facets(old[urn]), _facets(new[urn])))
            if changes:
                r = new[urn]
                diffs.append(ResourceDiff("change", urn, r.type, r.name, changes))
    outputs = tuple(value_changes(base.outputs if base else {}, head.outputs if head else {}, ""))
    before = base.warnings if base else []
    after = head.warnings if head else []
    return StackDiff(
        stack=stack,
        base_exists=base is not None,
        head_exists=head is not None,
        resources=tuple(diffs),
        outputs=outputs,
        new_warnings=tuple(w for w in after if w not in before),
        resolved_warnings=tuple(w for w in before if w not in after),
    )
