"""Errors written for the operator who fixes them: what is wrong, where, and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


def format_path(path: Path, namespace: str = "ukdac") -> str:
    """`("cluster", "nodeGroups", 1, "count")` -> `ukdac:cluster.nodeGroups[1].count`."""
    if not path:
        return f"{namespace}:"
    text = f"{namespace}:{path[0]}"
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def show_value(value: Any, limit: int = 60) -> str:
    """A short, single-line rendering of a bad value for an error message."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's configuration."""

    path: Path
    message: str
    value: Any = _MISSING
    from_profile: str | None = None  # set when the bad value came from a profile default

    @property
    def has_value(self) -> bool:
        return self.value is not _MISSING

    def render(self, source: str) -> str:
        where = f"{source}: {format_path(self.path)}"
        shown = "" if not self.has_value else f" = {show_value(self.value)}"
        origin = f" (default of the '{self.from_profile}' profile)" if self.from_profile else ""
        return f"{where}{shown}{origin}: {self.message}"


class UkdacError(Exception):
    """Base of errors the CLI reports as a message, without a traceback."""

    exit_code = 1


class StackFileError(UkdacError):
    """The stack file cannot be read at all (missing, bad YAML, another project's file)."""

    exit_code = 2


class ConfigError(UkdacError):
    """The stack file was read, but its configuration is invalid: every problem at once."""

    exit_code = 2

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = (
            f"{self.source}: {count} problem{'s' if count != 1 else ''} in the stack configuration"
        )
        return "\n".join([head, *(f"  - {p.render(self.source)}" for p in self.problems)])
