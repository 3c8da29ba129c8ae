"""What changes between two plans of a stack, as the engine would do it.

Resources are matched by URN: each is created, updated in place, replaced (noting
delete-before-replace) or deleted. A change lists each leaf that differs (inputs, options,
parent, provider, dependencies), so a reviewer sees `inputs.cidr: 10.10.0.0/24 ->
10.11.0.0/24` rather than two blobs; lists are compared element by element. Whether an
input change replaces comes from the providers' rules (`replacements`) and the program's
`replaceOnChanges`; a replaced resource gets a new id, so a resource whose replacing input
refers to it is replaced too. Secrets stay as the plans hold them: masked, with secret
text redacted line by line. Plan warnings a change brings or clears are part of the
difference; standing ones are not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.plan.footprint import Footprint, footprint
from infra.plan.ids import fake_id
from infra.plan.model import Plan, PlannedResource, join_path
from infra.plan.replacements import matches, replacing_paths
from infra.stack.deployment import CONTROL_PLANE, NODE_GROUP_METADATA_KEY
from policies.rules import IDENTITY_KEYS

# `keep`: only inputs the program tells the engine to ignore changed, so nothing happens to
# the resource (such as a node's user data, which applies to new nodes only).
Operation = Literal["add", "update", "replace", "remove", "keep"]


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
class SecretText:
    """A secret text input as its redacted lines (the plan masks the text itself)."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class ResourceDiff:
    """What happens to one resource."""

    kind: Operation
    urn: str
    type: str
    name: str
    changes: tuple[Change, ...] = ()
    replace_because: tuple[str, ...] = ()  # the changes that force the replacement
    delete_before_replace: bool = False
    protected: bool = False  # `protect` that stops the change (see `_changed`)
    inputs: Mapping[str, Any] = field(default_factory=dict)  # the head's (base's if removed)


@dataclass(frozen=True)
class ConfigChange:
    """One effective config key whose value (or where it is set) differs."""

    key: str
    before: Any
    after: Any
    before_source: str | None
    after_source: str | None


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
    config: tuple[ConfigChange, ...] = ()
    footprint_before: Footprint | None = None
    footprint_after: Footprint | None = None

    def of_kind(self, kind: str) -> list[ResourceDiff]:
        return [r for r in self.resources if r.kind == kind]

    @property
    def added(self) -> list[ResourceDiff]:
        return self.of_kind("add")

    @property
    def removed(self) -> list[ResourceDiff]:
        return self.of_kind("remove")

    @property
    def updated(self) -> list[ResourceDiff]:
        return self.of_kind("update")

    @property
    def replaced(self) -> list[ResourceDiff]:
        return self.of_kind("replace")

    @property
    def kept(self) -> list[ResourceDiff]:
        return self.of_kind("keep")

    @property
    def empty(self) -> bool:
        return (
            not self.resources
            and not self.outputs
            and not self.new_warnings
            and not self.resolved_warnings
            and not self.config
            and self.base_exists == self.head_exists
        )


def value_changes(before: Any, after: Any, path: str = "") -> Iterator[Change]:
    """Every leaf that differs between two JSON values."""
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from value_changes(
                before.get(key, ABSENT), after.get(key, ABSENT), join_path(path, key)
            )
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else ABSENT
            new = after[index] if index < len(after) else ABSENT
            yield from value_changes(old, new, join_path(path, index))
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


def _input_paths(changes: tuple[Change, ...]) -> list[str]:
    return [c.path.removeprefix("inputs.") for c in changes if c.path.startswith("inputs.")]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _refers_to(resource: PlannedResource, ids: dict[str, str]) -> tuple[str, ...]:
    """Replacing inputs of `resource` that hold the id of a replaced resource (id -> name)."""
    replace_on = resource.options.get("replaceOnChanges", [])
    found = []
    for key, value in resource.inputs.items():
        if not replacing_paths(resource.type, [key], replace_on):
            continue
        for text in _strings(value):
            if text in ids:
                found.append(f"inputs.{key} (refers to replaced {ids[text]})")
    return tuple(found)


def diff_plans(base: Plan | None, head: Plan | None) -> StackDiff:
    """Compare two plans of one stack; either may be None (stack added or removed)."""
    if base is None and head is None:
        raise ValueError("nothing to compare")
    stack = (head or base).stack  # type: ignore[union-attr]
    old = base.by_urn() if base else {}
    new = head.by_urn() if head else {}
    diffs: dict[str, ResourceDiff] = {}
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            r = new[urn]
            diffs[urn] = ResourceDiff("add", urn, r.type, r.name, inputs=r.inputs)
        elif urn not in new:
            r = old[urn]
            protected = bool(r.options.get("protect"))
            diffs[urn] = ResourceDiff(
                "remove", urn, r.type, r.name, protected=protected, inputs=r.inputs
            )
        else:
            changes = tuple(value_changes(_facets(old[urn]), _facets(new[urn])))
            if changes:
                diffs[urn] = _changed(old[urn], new[urn], changes)
    _cascade(diffs, new, old)
    outputs = tuple(value_changes(base.outputs if base else {}, head.outputs if head else {}, ""))
    before = base.warnings if base else []
    after = head.warnings if head else []
    return StackDiff(
        stack=stack,
        base_exists=base is not None,
        head_exists=head is not None,
        resources=tuple(diffs[urn] for urn in sorted(diffs)),
        outputs=outputs,
        new_warnings=tuple(w for w in after if w not in before),
        resolved_warnings=tuple(w for w in before if w not in after),
        config=_config_changes(base, head),
        footprint_before=footprint(base) if base else None,
        footprint_after=footprint(head) if head else None,
    )


def _config_changes(base: Plan | None, head: Plan | None) -> tuple[ConfigChange, ...]:
    old = base.config if base else {}
    new = head.config if head else {}
    if not old or not new:  # a plan from before plans carried their config says nothing
        return ()
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and (a.value, a.source) == (b.value, b.source):
            continue
        if a is not None and b is not None and isinstance(a.value, list | dict):
            # Element by element, so `nodeGroups[0].count: 3 -> 4` shows rather than two lists.
            for leaf in value_changes(a.value, b.value, key):
                changes.append(ConfigChange(leaf.path, leaf.before, leaf.after, a.source, b.source))
            if a.value != b.value:
                continue
        changes.append(
            ConfigChange(
                key,
                a.value if a is not None else ABSENT,
                b.value if b is not None else ABSENT,
                a.source if a is not None else None,
                b.source if b is not None else None,
            )
        )
    return tuple(changes)


def _texts_under(resource: PlannedResource, key: str) -> SecretText | None:
    """The redacted secret text at `key`, or under it (each part headed by its path)."""
    if key in resource.secret_text:
        return SecretText(tuple(resource.secret_text[key]))
    parts = sorted(k for k in resource.secret_text if k.startswith((key + ".", key + "[")))
    if not parts:
        return None
    lines: list[str] = []
    for part in parts:
        lines += [f"# {part}", *resource.secret_text[part]]
    return SecretText(tuple(lines))


def _with_secret_text(
    old: PlannedResource, new: PlannedResource, changes: tuple[Change, ...]
) -> tuple[Change, ...]:
    """Changed secret text shown by its redacted lines, so a reviewer sees which lines."""
    result = []
    for change in changes:
        key = change.path.removeprefix("inputs.")
        before = _texts_under(old, key) if change.path.startswith("inputs.") else None
        after = _texts_under(new, key) if change.path.startswith("inputs.") else None
        if before is not None or after is not None:
            change = Change(  # noqa: PLW2901 (the same change, shown by its lines)
                change.path,
                before if before is not None else change.before,
                after if after is not None else change.after,
            )
        result.append(change)
    return tuple(result)


def _is_ignored(path: str, ignored: list[str]) -> bool:
    """Whether a change at `path` (`inputs.x.y`) is one the engine is told to ignore."""
    return path.startswith("inputs.") and matches(ignored, path.removeprefix("inputs."))


def _changed(
    old: PlannedResource, new: PlannedResource, changes: tuple[Change, ...]
) -> ResourceDiff:
    changes = _with_secret_text(old, new, changes)
    ignored = new.options.get("ignoreChanges", [])
    if ignored:
        kept = tuple(c for c in changes if _is_ignored(c.path, ignored))
        changes = tuple(c for c in changes if c not in kept)
        if not changes:
            return ResourceDiff("keep", new.urn, new.type, new.name, kept, inputs=new.inputs)
    replace_on = new.options.get("replaceOnChanges", [])
    because = replacing_paths(new.type, _input_paths(changes), replace_on)
    return ResourceDiff(
        "replace" if because else "update",
        new.urn,
        new.type,
        new.name,
        changes,
        replace_because=tuple(f"inputs.{p}" for p in because),
        delete_before_replace=bool(new.options.get("deleteBeforeReplace")),
        # The engine replaces a resource when either its deployed or its new state is
        # unprotected (how `ukdac:allow` lets one change through), never deletes one that
        # is deployed protected.
        protected=bool(old.options.get("protect")) and bool(new.options.get("protect")),
        inputs=new.inputs,
    )


def _cascade(
    diffs: dict[str, ResourceDiff],
    head: dict[str, PlannedResource],
    base: dict[str, PlannedResource],
) -> None:
    """A replaced resource gets a new id: whoever holds it in a replacing input is replaced."""
    while True:
        ids = {fake_id(d.urn): d.name for d in diffs.values() if d.kind == "replace"}
        more = False
        for urn, resource in head.items():
            current = diffs.get(urn)
            if current is not None and current.kind in ("add", "replace"):
                continue
            because = _refers_to(resource, ids)
            if because:
                diffs[urn] = ResourceDiff(
                    "replace",
                    urn,
                    resource.type,
                    resource.name,
                    current.changes if current else (),
                    replace_because=because,
                    delete_before_replace=bool(resource.options.get("deleteBeforeReplace")),
                    protected=current.protected
                    if current
                    else bool(resource.options.get("protect")),
                    inputs=resource.inputs,
                )
                more = True
        if not more:
            return


# What losing a resource of these types loses, for the blast radius.
STATEFUL = {
    "openstack:objectstorage/container:Container": "a bucket and its objects",
    "openstack:blockstorage/volume:Volume": "a volume and its data",
    "openstack:containerinfra/cluster:Cluster": "the whole Magnum cluster",
    "kubernetes:core/v1:PersistentVolumeClaim": "a volume and its data",
    "kubernetes:core/v1:Namespace": "a namespace and everything in it",
    "kubernetes:qserv.lsst.org/v1beta1:Qserv": "Qserv and its storage",
}
STATEFUL_CHARTS = {"vault": "Vault and its storage"}
INSTANCE = "openstack:compute/instance:Instance"


def hazards(resource: ResourceDiff) -> tuple[str, ...]:
    """Why replacing or deleting this resource matters beyond the resource itself."""
    if resource.kind not in ("replace", "remove"):
        return ()
    found = []
    if resource.protected:
        found.append("protected: `pulumi up` fails until it is unprotected")
    metadata = resource.inputs.get("metadata") if resource.type == INSTANCE else None
    if isinstance(metadata, dict) and metadata.get(NODE_GROUP_METADATA_KEY) == CONTROL_PLANE:
        found.append("a control plane")
    what = STATEFUL.get(resource.type)
    if resource.type == "kubernetes:helm.sh/v3:Release":
        what = STATEFUL_CHARTS.get(str(resource.inputs.get("chart")))
    if resource.type == "tls:index/privateKey:PrivateKey" and resource.name.endswith(IDENTITY_KEYS):
        what = "the cluster's identity (a CA or service-account key)"
    if what:
        found.append(f"stateful: {what}")
    return tuple(found)
