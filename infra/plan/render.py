"""Plans and diffs for people: rich renderables for the terminal, Markdown for pull requests."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infra.plan.diff import (
    ABSENT,
    INSTANCE,
    Change,
    ResourceDiff,
    SecretText,
    StackDiff,
    hazards,
)
from infra.plan.footprint import Footprint
from infra.plan.model import Plan, PlannedResource
from infra.stack.deployment import NODE_GROUP_METADATA_KEY
from infra.stack.profiles import FLAVORS

COMMENT_MARKER = "<!-- ukdac-plan-diff -->"
_FLAGS = ("protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "customTimeouts")


def short(value: Any, limit: int = 100) -> str:
    """One line for a value: JSON for structures, the text itself for strings."""
    if value is ABSENT:
        return "(absent)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lines(value: Any) -> list[str] | None:
    if isinstance(value, SecretText):
        return list(value.lines)
    if isinstance(value, str) and "\n" in value:
        return value.splitlines()
    return None


def _is_text_block(change: Change) -> bool:
    return _lines(change.before) is not None or _lines(change.after) is not None


def _text_diff(change: Change) -> list[str]:
    before = _lines(change.before) or []
    after = _lines(change.after) or []
    return list(difflib.unified_diff(before, after, "base", "head", n=2, lineterm=""))[2:]


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def _label(resource: PlannedResource) -> Text:
    label = Text()
    label.append(resource.type, style="cyan" if resource.custom else "bold magenta")
    label.append(f"  {resource.name}")
    physical = resource.inputs.get("name")
    if isinstance(physical, str) and physical != resource.name:
        label.append(f"  ({physical})", style="dim")
    flags = [flag for flag in _FLAGS if flag in resource.options]
    if flags:
        label.append(f"  [{', '.join(flags)}]", style="yellow")
    return label


def plan_tree(plan: Plan) -> Tree:
    """The resources as a tree: components with their children."""
    tree = Tree(Text(f"{plan.stack}  ({len(plan.resources)} resources)", style="bold"))
    children = plan.children()

    def add(node: Tree, parent: str) -> None:
        for resource in children.get(parent, []):
            add(node.add(_label(resource)), resource.urn)

    add(tree, plan.stack_urn)
    orphans = [r for r in plan.resources if r.parent not in {*plan.by_urn(), plan.stack_urn}]
    for resource in orphans:
        tree.add(_label(resource))
    return tree


def counts_table(plan: Plan) -> Table:
    table = Table(title="Resources by type", title_justify="left")
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_, count in plan.counts_by_type().items():
        table.add_row(type_, str(count))
    table.add_row(Text("total", style="bold"), Text(str(len(plan.resources)), style="bold"))
    return table


def outputs_table(plan: Plan) -> Table:
    table = Table(title="Stack outputs", title_justify="left")
    table.add_column("output")
    table.add_column("value", overflow="fold")
    for key, value in sorted(plan.outputs.items()):
        table.add_row(key, short(value, 200))
    return table


def render_plan(plan: Plan) -> RenderableType:
    parts: list[RenderableType] = [plan_tree(plan), counts_table(plan), outputs_table(plan)]
    if plan.warnings:
        parts.append(Text("\n".join(f"warning: {w}" for w in plan.warnings), style="yellow"))
    return Group(*parts)


# ---------------------------------------------------------------------------------------------
# Diffs
# ---------------------------------------------------------------------------------------------


def summary(diff: StackDiff) -> str:
    if not diff.head_exists:
        return f"stack removed ({len(diff.removed)} resources)"
    if not diff.base_exists:
        return f"new stack ({len(diff.added)} resources)"
    if diff.empty:
        return "no changes"
    text = (
        f"{len(diff.added)} to create, {len(diff.updated)} to update, "
        f"{len(diff.replaced)} to replace, {len(diff.removed)} to delete, "
        f"{len(diff.outputs)} output(s) changed"
    )
    if diff.kept:
        text += f", {len(diff.kept)} kept (only ignored inputs changed)"
    if diff.new_warnings:
        text += f", {len(diff.new_warnings)} new warning(s)"
    return text


VERBS = {
    "add": "create",
    "update": "update",
    "replace": "replace",
    "remove": "delete",
    "keep": "keep",
}
_MARKS = {
    "keep": ("=", "dim"),
    "add": ("+", "green"),
    "update": ("~", "yellow"),
    "replace": ("+-", "magenta"),
    "remove": ("-", "red"),
}


def operation(resource: ResourceDiff) -> str:
    """`create`, `update`, `replace` (`delete, then replace` where so), `delete`, or
    `keep (ignored changes)`."""
    if resource.kind == "replace" and resource.delete_before_replace:
        return "delete, then replace"
    if resource.kind == "keep":
        return "keep (ignored changes)"
    return VERBS[resource.kind]


def blast_radius(diff: StackDiff) -> list[tuple[ResourceDiff, tuple[str, ...]]]:
    """What is replaced or deleted, with why it matters; the dangerous ones first."""
    gone = [r for r in diff.resources if r.kind in ("replace", "remove")]
    ranked = [(r, hazards(r)) for r in gone]
    return sorted(ranked, key=lambda item: (not item[1], item[0].urn))


def flagged(diff: StackDiff) -> bool:
    """Whether a stack's change replaces or deletes anything protected, stateful or a control
    plane."""
    return any(reasons for _, reasons in blast_radius(diff))


def footprint_delta(diff: StackDiff) -> list[tuple[str, int, int]]:
    """(what, before, after) for each footprint figure that changes."""
    before = diff.footprint_before or Footprint()
    after = diff.footprint_after or Footprint()
    rows = [
        ("instances", before.instances, after.instances),
        ("volumes", before.volumes, after.volumes),
        ("volume GB", before.gigabytes, after.gigabytes),
        ("floating IPs", before.floating_ips, after.floating_ips),
        ("ports", before.ports, after.ports),
    ]
    sizes = (before.size(FLAVORS), after.size(FLAVORS))
    if sizes[0] is not None and sizes[1] is not None:
        rows.insert(1, ("vCPU", sizes[0][0], sizes[1][0]))
        rows.insert(2, ("RAM GiB", sizes[0][1] // 1024, sizes[1][1] // 1024))
    return [row for row in rows if row[1] != row[2]]


def _delta_text(rows: list[tuple[str, int, int]]) -> str:
    return ", ".join(f"{what} {a} → {b} ({b - a:+d})" for what, a, b in rows)


def node_rollout(diff: StackDiff) -> list[str]:
    """Per node group, the nodes a change brings up, retires, resizes or rebuilds, and those
    that keep running from an older recipe: a rollout reads as waves, not resource lines."""
    counts: dict[str, dict[str, int]] = {}
    for resource in diff.resources:
        if resource.type != INSTANCE:
            continue
        group = str((resource.inputs.get("metadata") or {}).get(NODE_GROUP_METADATA_KEY, "?"))
        tally = counts.setdefault(group, {})
        tally[resource.kind] = tally.get(resource.kind, 0) + 1
    words = {
        "add": "new",
        "remove": "retired",
        "replace": "REPLACED",
        "update": "changed in place",
        "keep": "kept on their recipe",
    }
    lines = []
    for group, tally in sorted(counts.items()):
        parts = [f"{tally[kind]} {word}" for kind, word in words.items() if tally.get(kind)]
        lines.append(f"{group}: {', '.join(parts)}")
    return lines


def kubernetes_upgrade(diff: StackDiff) -> list[str]:
    """What a changed Kubernetes version asks of the operator: the plan changes no running
    node, so the upgrade itself is in place, in waves, by the runbook."""
    for change in diff.config:
        if change.key == "ukdac:cluster.kubernetesVersion" and change.before != change.after:
            return [
                f"Kubernetes {change.before} -> {change.after}: new nodes get it; running "
                "nodes are upgraded in place, control planes one at a time and then workers "
                "(docs/runbooks/upgrade.md), or a worker group rolls to it with a new "
                "`generation`",
            ]
    return []


def render_diff(diffs: Iterable[StackDiff]) -> RenderableType:
    parts: list[RenderableType] = []
    for diff in diffs:
        parts.append(Text(f"{diff.stack}: {summary(diff)}", style="bold"))
        radius = blast_radius(diff)
        if radius:
            parts.append(Text("  replaced or deleted:", style="bold red"))
            for resource, reasons in radius:
                note = f" ({'; '.join(reasons)})" if reasons else ""
                parts.append(
                    Text(
                        f"    {operation(resource)} {resource.type}  {resource.name}{note}",
                        style="bold red" if reasons else "red",
                    )
                )
        if diff.config:
            parts.append(Text("  config:", style="bold"))
            for c in diff.config:
                parts.append(
                    Text(
                        f"    {c.key}: {short(c.before)} -> {short(c.after)}"
                        f" ({c.after_source or c.before_source})"
                    )
                )
        delta = footprint_delta(diff)
        if delta:
            parts.append(Text(f"  footprint: {_delta_text(delta)}", style="bold"))
        rollout = node_rollout(diff)
        if rollout:
            parts.append(Text("  nodes:", style="bold"))
            parts += [Text(f"    {line}") for line in rollout + kubernetes_upgrade(diff)]
        for resource in diff.resources:
            mark, style = _MARKS[resource.kind]
            parts.append(Text(f"  {mark} {resource.type}  {resource.name}", style=style))
            for reason in resource.replace_because:
                parts.append(Text(f"      replaced because {reason} changed", style="magenta"))
            for change in resource.changes:
                parts.extend(_change_lines(change, "      "))
        if diff.outputs:
            parts.append(Text("  outputs:", style="bold"))
            for change in diff.outputs:
                parts.extend(_change_lines(change, "      "))
        parts += [Text(f"  new warning: {w}", style="yellow") for w in diff.new_warnings]
        parts += [Text(f"  warning resolved: {w}", style="green") for w in diff.resolved_warnings]
    return Group(*parts)


def _change_lines(change: Change, indent: str) -> list[Text]:
    if _is_text_block(change):
        lines = [Text(f"{indent}{change.path}:")]
        for line in _text_diff(change):
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            lines.append(Text(f"{indent}  {line}", style=style))
        return lines
    return [Text(f"{indent}{change.path}: {short(change.before)} -> {short(change.after)}")]


def _code(value: Any) -> str:
    text = short(value).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


# Every hazard is listed; routine replacements and deletions up to this many per stack.
ROUTINE_LISTED = 20
# GitHub refuses comment bodies over 65,536 characters; keep room for the footer.
COMMENT_LIMIT = 65_536
_BUDGET = COMMENT_LIMIT - 2_000


def markdown(
    diffs: list[StackDiff],
    title: str = "ukdac plan diff",
    full_report: str = "the `plan-diff` workflow artifact",
) -> str:
    """A pull-request comment: a summary table, then per stack what is replaced or deleted
    (in bold), the config keys that changed, the footprint delta, and the details folded.
    Details are cut, largest first, when the comment would exceed GitHub's limit."""
    head = [COMMENT_MARKER, f"## {title}", ""]
    head += [
        "| stack | | create | update | replace | delete | outputs | footprint |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for d in diffs:
        mark = "⚠️" if flagged(d) else ""
        head.append(
            f"| `{d.stack}` | {mark} | {len(d.added)} | {len(d.updated)} | {len(d.replaced)} "
            f"| {len(d.removed)} | {len(d.outputs)} | {_delta_text(footprint_delta(d)) or 'none'} |"
        )
    head.append("")
    for heading, attribute in (
        ("New warnings", "new_warnings"),
        ("Warnings resolved", "resolved_warnings"),
    ):
        found = [(d.stack, w) for d in diffs for w in getattr(d, attribute)]
        if found:
            head += [f"**{heading}**", "", *(f"- `{stack}`: {w}" for stack, w in found), ""]
    sections = [(_overview(d), _details(d)) for d in diffs]
    footer = ["_Offline plan (no cloud credentials); secrets are masked._"]
    size = len("\n".join(head + footer)) + sum(
        len("\n".join(o)) + len("\n".join(x)) + 2 for o, x in sections
    )
    cut = set()
    for index in sorted(range(len(sections)), key=lambda i: -len("\n".join(sections[i][1]))):
        if size <= _BUDGET:
            break
        size -= len("\n".join(sections[index][1]))
        cut.add(index)
    body = list(head)
    for index, (overview, details) in enumerate(sections):
        body += overview
        if index in cut:
            body += [f"_Details cut to fit GitHub's comment limit: see {full_report}._", ""]
        else:
            body += details
    if cut:
        footer.insert(0, f"_Some details were cut; the whole diff is in {full_report}._")
    text = "\n".join(body + footer) + "\n"
    if len(text) > _BUDGET:  # overviews alone too long: keep the head of the comment
        note = f"\n\n_Cut to fit GitHub's comment limit: the whole diff is in {full_report}._\n"
        text = text[: _BUDGET - len(note)].rsplit("\n", 1)[0] + note
    return text


def _overview(d: StackDiff) -> list[str]:
    if d.empty:
        return [f"### `{d.stack}`: no changes", ""]
    lines = [f"### `{d.stack}`: {summary(d)}", ""]
    radius = blast_radius(d)
    if radius:
        lines += ["**Replaced or deleted**", ""]
        routine = 0
        for resource, reasons in radius:
            routine += not reasons
            if not reasons and routine > ROUTINE_LISTED:
                continue
            why = f" — ⚠️ {'; '.join(reasons)}" if reasons else ""
            lines.append(f"- **{operation(resource)}** `{resource.type}` **{resource.name}**{why}")
        if routine > ROUTINE_LISTED:
            lines.append(f"- … and {routine - ROUTINE_LISTED} more (see the details)")
        lines.append("")
    elif d.resources:
        lines += ["Nothing is replaced or deleted.", ""]
    if d.config:
        lines += ["**Configuration**", ""]
        for c in d.config:
            source = c.after_source or c.before_source
            moved = (
                f"; was {c.before_source}"
                if c.before_source and c.after_source and c.before_source != c.after_source
                else ""
            )
            lines.append(f"- `{c.key}`: {_code(c.before)} → {_code(c.after)} ({source}{moved})")
        lines.append("")
    delta = footprint_delta(d)
    if delta:
        lines += [f"**Footprint**: {_delta_text(delta)}", ""]
    rollout = node_rollout(d) + kubernetes_upgrade(d)
    if rollout:
        lines += ["**Nodes**", "", *(f"- {line}" for line in rollout), ""]
    return lines


def _details(d: StackDiff) -> list[str]:
    if d.empty or not (d.resources or d.outputs):
        return []
    lines = [f"<details><summary>{len(d.resources)} resource change(s)</summary>", ""]
    for kind, heading in (
        ("replace", "Replaced"),
        ("remove", "Deleted"),
        ("add", "Created"),
        ("update", "Updated in place"),
        ("keep", "Kept: only ignored inputs changed (they apply to new resources)"),
    ):
        items = d.of_kind(kind)
        if not items:
            continue
        lines += [f"**{heading}**", ""]
        for resource in items:
            lines.append(f"- `{resource.type}` **{resource.name}** ({operation(resource)})")
            lines += [f"  - replaced because `{r}` changed" for r in resource.replace_because]
            lines += _markdown_changes(resource.changes)
        lines.append("")
    if d.outputs:
        lines += ["**Stack outputs**", "", *_markdown_changes(d.outputs, "- "), ""]
    lines += ["</details>", ""]
    return lines


def _markdown_changes(changes: Iterable[Change], bullet: str = "  - ") -> list[str]:
    lines: list[str] = []
    for change in changes:
        if _is_text_block(change):
            lines.append(f"{bullet}`{change.path}`:")
            lines += ["", "  ```diff", *(f"  {line}" for line in _text_diff(change)), "  ```", ""]
        else:
            lines.append(f"{bullet}`{change.path}`: {_code(change.before)} → {_code(change.after)}")
    return lines


# ---------------------------------------------------------------------------------------------
# For machines
# ---------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if value is ABSENT:
        return {"absent": True}
    if isinstance(value, SecretText):
        return {"secretTextLines": list(value.lines)}
    return value


def diff_document(diffs: Iterable[StackDiff]) -> list[dict[str, Any]]:
    """The diffs as JSON data: per stack, every resource's operation, reasons and changes."""
    document = []
    for d in diffs:
        document.append(
            {
                "stack": d.stack,
                "baseExists": d.base_exists,
                "headExists": d.head_exists,
                "summary": {verb: len(d.of_kind(kind)) for kind, verb in VERBS.items()},
                "flagged": flagged(d),
                "config": [
                    {
                        "key": c.key,
                        "before": _jsonable(c.before),
                        "after": _jsonable(c.after),
                        "beforeSource": c.before_source,
                        "afterSource": c.after_source,
                    }
                    for c in d.config
                ],
                "footprint": [
                    {"what": what, "before": a, "after": b} for what, a, b in footprint_delta(d)
                ],
                "resources": [
                    {
                        "operation": operation(r),
                        "urn": r.urn,
                        "type": r.type,
                        "name": r.name,
                        "replaceBecause": list(r.replace_because),
                        "protected": r.protected,
                        "hazards": list(hazards(r)),
                        "changes": [
                            {
                                "path": c.path,
                                "before": _jsonable(c.before),
                                "after": _jsonable(c.after),
                            }
                            for c in r.changes
                        ],
                    }
                    for r in d.resources
                ],
                "outputs": [
                    {"path": c.path, "before": _jsonable(c.before), "after": _jsonable(c.after)}
                    for c in d.outputs
                ],
                "newWarnings": list(d.new_warnings),
                "resolvedWarnings": list(d.resolved_warnings),
            }
        )
    return document
