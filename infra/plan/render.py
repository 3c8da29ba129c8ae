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

from infra.plan.diff import ABSENT, Change, StackDiff
from infra.plan.model import Plan, PlannedResource

COMMENT_MARKER = "<!-- ukdac-plan-diff -->"
_FLAGS = ("protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "customTimeouts")


def short(value: Any, limit: int = 100) -> str:
    """One line for a value: JSON for structures, the text itself for strings."""
    if value is ABSENT:
        return "(absent)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_text_block(change: Change) -> bool:
    return any(isinstance(v, str) and "\n" in v for v in (change.before, change.after))


def _text_diff(change: Change) -> list[str]:
    before = change.before if isinstance(change.before, str) else ""
    after = change.after if isinstance(change.after, str) else ""
    return list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "base", "head", n=2, lineterm=""
        )
    )[2:]


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
        f"{len(diff.added)} to add, {len(diff.changed)} to change, "
        f"{len(diff.removed)} to remove, {len(diff.outputs)} output(s) changed"
    )
    if diff.new_warnings:
        text += f", {len(diff.new_warnings)} new warning(s)"
    return text


def render_diff(diffs: Iterable[StackDiff]) -> RenderableType:
    parts: list[RenderableType] = []
    for diff in diffs:
        parts.append(Text(f"{diff.stack}: {summary(diff)}", style="bold"))
        marks = {"add": ("+", "green"), "remove": ("-", "red"), "change": ("~", "yellow")}
        for resource in diff.resources:
            mark, style = marks[resource.kind]
            parts.append(Text(f"  {mark} {resource.type}  {resource.name}", style=style))
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


def markdown(diffs: list[StackDiff], title: str = "ukdac plan diff") -> str:
    """A pull-request comment body: a summary table, then one folded section per stack."""
    lines = [COMMENT_MARKER, f"## {title}", ""]
    lines += [
        "| stack | added | changed | removed | outputs changed |",
        "|---|---:|---:|---:|---:|",
    ]
    for d in diffs:
        lines.append(
            f"| `{d.stack}` | {len(d.added)} | {len(d.changed)} | {len(d.removed)} "
            f"| {len(d.outputs)} |"
        )
    lines.append("")
    for heading, attribute in (
        ("New warnings", "new_warnings"),
        ("Warnings resolved", "resolved_warnings"),
    ):
        found = [(d.stack, w) for d in diffs for w in getattr(d, attribute)]
        if found:
            lines += [f"**{heading}**", "", *(f"- `{stack}`: {w}" for stack, w in found), ""]
    for d in diffs:
        if d.empty:
            lines += [f"**`{d.stack}`**: no changes.", ""]
            continue
        lines += [f"<details><summary><b>{d.stack}</b>: {summary(d)}</summary>", ""]
        for kind, heading in (("add", "Added"), ("remove", "Removed"), ("change", "Changed")):
            items = d.of_kind(kind)
            if not items:
                continue
            lines += [f"**{heading}**", ""]
            for resource in items:
                lines.append(f"- `{resource.type}` **{resource.name}**")
                lines += _markdown_changes(resource.changes)
            lines.append("")
        if d.outputs:
            lines += ["**Stack outputs**", "", *_markdown_changes(d.outputs, "- "), ""]
        lines += ["</details>", ""]
    lines.append("_Offline plan (no cloud credentials); secrets are masked._")
    return "\n".join(lines) + "\n"


def _markdown_changes(changes: Iterable[Change], bullet: str = "  - ") -> list[str]:
    lines: list[str] = []
    for change in changes:
        if _is_text_block(change):
            lines.append(f"{bullet}`{change.path}`:")
            lines += ["", "  ```diff", *(f"  {line}" for line in _text_diff(change)), "  ```", ""]
        else:
            lines.append(f"{bullet}`{change.path}`: {_code(change.before)} → {_code(change.after)}")
    return lines
