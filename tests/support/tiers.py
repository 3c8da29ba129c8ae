"""What every test tier beside the unit suite shares: its marker, and the rule that a missing
prerequisite skips the tier on a developer's machine but fails it where it is required."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def mark_tier(items: list[pytest.Item], folder: str, marker: pytest.MarkDecorator) -> None:
    """Mark every collected test under `tests/<folder>/` (the Makefile selects tiers by it)."""
    for item in items:
        if f"tests/{folder}/" in str(item.path):
            item.add_marker(marker)


def unavailable(required_by: str, reason: str) -> NoReturn:
    """Fail with `reason` when the environment variable `required_by` is set (CI), else skip."""
    if os.environ.get(required_by):
        pytest.fail(reason)
    pytest.skip(reason)
