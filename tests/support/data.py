"""The upstream schemas and chart key lists the unit suite validates against (tests/data)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


def schema_file(relative: str) -> Path:
    """A file of tests/data (see its README for each file's source and licence)."""
    path = DATA / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: tests/data/README.md lists what belongs there")
    return path


@dataclass(frozen=True)
class ChartKeys:
    """A chart's default key paths, as tests/data/helm/keys.py wrote them."""

    present: frozenset[str]  # keys the defaults set, interior keys included
    free_form: frozenset[str]  # empty maps whose keys are the user's
    commented: frozenset[str]  # keys documented only in a comment


def chart_keys(relative: str) -> ChartKeys:
    present: set[str] = set()
    free: set[str] = set()
    commented: set[str] = set()
    for line in schema_file(relative).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("~ "):
            commented.add(line[2:])
        elif line.endswith(" {}"):
            free.add(line[:-3])
        else:
            present.add(line)
    return ChartKeys(frozenset(present), frozenset(free), frozenset(commented))
