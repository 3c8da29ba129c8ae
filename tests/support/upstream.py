"""Where the optional upstream tiers find the real consumers (charts, phalanx, operators).

Each is named by an environment variable. Absent, the tier skips and says which variable
to set, unless `UKDAC_REQUIRE_UPSTREAM=1` (as in `.ci/run`), where absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def upstream_dir(variable: str) -> Path:
    """The folder `variable` names; skip (or fail when required) if it is unset or missing."""
    value = os.environ.get(variable)
    folder = Path(value) if value else None
    if folder is not None and folder.is_dir():
        return folder
    reason = f"{variable} is unset" if folder is None else f"{variable}={folder} is not a folder"
    if os.environ.get("UKDAC_REQUIRE_UPSTREAM") == "1":
        pytest.fail(f"{reason}, and UKDAC_REQUIRE_UPSTREAM=1 requires it")
    pytest.skip(f"{reason}: set it to the upstream snapshot to run this tier")
