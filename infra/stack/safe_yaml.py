"""Reading YAML that a person (or an accident) wrote: bounded, strict, and never a traceback.

A stack file is a small mapping of plain values. Anything else is refused with the file,
line and column and what to do: files too large or not UTF-8 text, documents nested too
deep or expanding to too many values through aliases (YAML bombs), tags other than YAML's
plain ones (`!!binary`, `!!set`, `!!python/...`, custom tags), keys that are not strings
(`on:` is the boolean true in YAML 1.1), and a key given twice in one mapping, which YAML
would silently resolve to the last one. Merge keys (`<<: *defaults`, a mapping or a list of
mappings) are YAML that operators use to share node-group settings: they are read, and
what they bring in is validated like any other value.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_VALUES = 20_000  # scalars, sequences and mappings, with every alias expanded

MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class YamlInputError(ValueError):
    """The text is not a document ukdac reads; the message says where and why."""


def _where(display: str, node: Node) -> str:
    mark = node.start_mark
    return f"{display}:{mark.line + 1}:{mark.column + 1}"


def _check(node: Node, display: str) -> None:
    """Depth, tags, keys and the expanded size, in one walk that visits each node once."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def walk(current: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlInputError(
                f"{_where(display, current)}: nested deeper than {MAX_DEPTH} levels"
            )
        if current.tag not in _PLAIN_TAGS:
            raise YamlInputError(
                f"{_where(display, current)}: YAML tag {current.tag} is not allowed; "
                "write plain values (strings, numbers, booleans, lists, mappings)"
            )
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise YamlInputError(f"{_where(display, current)}: a recursive alias")
        on_path.add(key)
        size = 1
        if isinstance(current, SequenceNode):
            size += sum(walk(item, depth + 1) for item in current.value)
        elif isinstance(current, MappingNode):
            seen: dict[str, Node] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode) and key_node.tag == MERGE_TAG:
                    sources = (
                        value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                    )
                    if not all(isinstance(source, MappingNode) for source in sources):
                        raise YamlInputError(
                            f"{_where(display, key_node)}: '<<' merges a mapping (or a list of "
                            "mappings) into this one; give it an alias of a mapping"
                        )
                    size += 1 + walk(value_node, depth + 1)
                    continue
                if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                    shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                    raise YamlInputError(
                        f"{_where(display, key_node)}: key {shown!s} is not a string "
                        "(YAML reads it as another type); quote it"
                    )
                if key_node.value in seen:
                    first = seen[key_node.value].start_mark.line + 1
                    raise YamlInputError(
                        f"{_where(display, key_node)}: key '{key_node.value}' is given twice "
                        f"in this mapping (first at line {first}); keep one"
                    )
                seen[key_node.value] = key_node
                size += 1 + walk(value_node, depth + 1)
        on_path.discard(key)
        sizes[key] = size
        if size > MAX_VALUES:
            raise YamlInputError(
                f"{_where(display, current)}: expands to more than {MAX_VALUES} values "
                "(aliases included); a stack file is far smaller"
            )
        return size

    walk(node, 0)


def _flow_depth(text: str, display: str) -> None:
    """Refuse `[[[[...` or `{a: {a: ...` nested past MAX_DEPTH before the parser recurses."""
    depth = line = column = 0
    quote = ""
    comment = False
    previous = ""
    for char in text:
        if char == "\n":
            line, column, comment = line + 1, 0, False
            previous = char
            continue
        column += 1
        if comment:
            continue
        if quote:
            if char == quote and not (quote == '"' and previous == "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and previous in ("", " ", "\t", "\n"):
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlInputError(
                    f"{display}:{line + 1}:{column}: nested deeper than {MAX_DEPTH} levels"
                )
        elif char in "]}":
            depth = max(depth - 1, 0)
        previous = char


def load(data: bytes, display: str) -> Any:
    """The one document in `data`, checked before any Python object is built from it."""
    if len(data) > MAX_BYTES:
        raise YamlInputError(
            f"{display}: {len(data)} bytes; a stack file is at most {MAX_BYTES // 1024} KiB"
        )
    if b"\x00" in data:
        raise YamlInputError(f"{display}: a binary file (it has NUL bytes), not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlInputError(
            f"{display}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    _flow_depth(text, display)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        raise YamlInputError(f"{where}: YAML syntax error: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise YamlInputError(f"{display}: YAML error: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise YamlInputError(f"{display}: nested too deep to read") from None
    if node is None:
        return None
    _check(node, display)
    try:
        return yaml.SafeLoader(text).construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlInputError(f"{display}: YAML error: {str(exc).splitlines()[0]}") from None
