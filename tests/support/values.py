"""Walking plan values in tests."""

from __future__ import annotations

from typing import Any


def all_strings(value: Any) -> list[str]:
    """Every string anywhere in a nested value of dicts and lists."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return [value] if isinstance(value, str) else []
