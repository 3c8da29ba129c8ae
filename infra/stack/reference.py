"""docs/configuration.md, generated from the config model's JSON Schema and the profiles.

`ukdac config docs --output docs/configuration.md` rewrites it; a test fails when the
committed file differs from what the model gives, so the reference cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from infra.stack.model import ENVIRONMENTS
from infra.stack.profiles import defaults_for
from infra.stack.schema import stack_file_schema

HEADER = """# Stack configuration reference

Generated from the config model (`infra/stack/model.py`) and the environment profiles
(`infra/stack/profiles.py`) by `ukdac config docs`; do not edit by hand. Every key lives under the
`ukdac:` namespace of `stacks/Pulumi.<stack>.yaml`. A stack file sets only what differs
from its environment's defaults, shown per environment below (`-`: no default, the stack
file must set it). `ukdac config show STACK` prints a stack's effective values and
`ukdac config check STACK` validates them, cross-field rules included.
"""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _is_secret(node: dict[str, Any]) -> bool:
    return set(node.get("properties", {})) == {"secure"}


def _type(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = _resolve(schema, node)
    if "anyOf" in node:
        return " or ".join(_type(schema, n) for n in node["anyOf"])
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if node.get("type") == "array":
        return f"list of {_type(schema, node.get('items', {}))}"
    if _is_secret(node):
        return "secret (`secure:`)"
    if node.get("type") == "object" and node.get("properties"):
        return str(node.get("title", "object"))
    if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        return "map"
    return str(node.get("type", node.get("title", "object")))


def _show(value: Any) -> str:
    text = json.dumps(value)
    return f"`{text}`" if len(text) <= 40 else "(see profile)"


def _default(path: tuple[str, ...], environment: str, node: dict[str, Any] | None = None) -> str:
    """The profile's default, else the model's own default, else `-` (must be set)."""
    value: Any = defaults_for(environment)  # type: ignore[arg-type]
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _show(node["default"]) if node and "default" in node else "-"
        value = value[part]
    return _show(value)


def _rows(schema: dict[str, Any], node: dict[str, Any], path: tuple[str, ...]) -> Iterator[str]:
    node = _resolve(schema, node)
    for key, child in node.get("properties", {}).items():
        child_path = (*path, key)
        resolved = _resolve(schema, child)
        nested = [n for n in resolved.get("anyOf", [resolved]) if "$ref" in n or "properties" in n]
        if nested and _resolve(schema, nested[0]).get("properties") and not _is_secret(resolved):
            yield from _rows(schema, nested[0], child_path)
            continue
        defaults = " / ".join(_default(child_path, env, child) for env in ENVIRONMENTS)
        description = (resolved.get("description") or child.get("description") or "").replace(
            "\n", " "
        )
        yield f"| `{'.'.join(child_path)}` | {_type(schema, child)} | {defaults} | {description} |"
        items = (
            _resolve(schema, resolved.get("items", {})) if resolved.get("type") == "array" else {}
        )
        if items.get("properties"):
            item_path = (*child_path[:-1], f"{child_path[-1]}[]")
            for item_key, field in items["properties"].items():
                text = (field.get("description") or "").replace("\n", " ")
                dotted = ".".join((*item_path, item_key))
                yield f"| `{dotted}` | {_type(schema, field)} | | {text} |"


def render() -> str:
    schema = stack_file_schema()
    lines = [HEADER]
    for key, node in schema["properties"]["config"]["properties"].items():
        resolved = _resolve(schema, node)
        section = key.removeprefix("ukdac:")
        title = node.get("title") or resolved.get("title") or section
        lines += [f"## `{key}` ({title})", ""]
        description = node.get("description") or resolved.get("description")
        if description:
            lines += [description, ""]
        lines += [
            f"| key | type | default ({' / '.join(ENVIRONMENTS)}) | description |",
            "|---|---|---|---|",
        ]
        if resolved.get("properties") or any("$ref" in n for n in resolved.get("anyOf", [])):
            target = next(
                n for n in resolved.get("anyOf", [resolved]) if "$ref" in n or "properties" in n
            )
            lines += list(_rows(schema, target, (section,)))
        else:
            defaults = " / ".join(_default((section,), env) for env in ENVIRONMENTS)
            lines.append(
                f"| `{section}` | {_type(schema, node)} | {defaults} | {description or ''} |"
            )
        lines.append("")
    return "\n".join(lines)
