"""Shared fixtures: the real project, throwaway projects with their own stack files."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stackfile import Project, load_project

ROOT = Path(__file__).resolve().parent.parent

# A complete, valid dev stack (namespace stripped), the base most config tests start from.
DEV: dict[str, Any] = {
    "environment": "dev",
    "fqdn": "rsp-dev.lsst.ac.uk",
    "cloud": {"name": "somerville-ukdac-dev"},
    "phalanx": {"environment": "ukidacdev"},
}


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with dotted paths set: with_changes(DEV, **{"tls.issuer": "x"})."""
    result = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = result
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return result


def stack_document(raw: dict[str, Any], namespace: str = "ukdac") -> dict[str, Any]:
    return {"config": {f"{namespace}:{k}": v for k, v in raw.items()}}


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(ROOT)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """A project in tmp_path running the real program, with the given stack files."""

    def make(stacks: dict[str, dict[str, Any] | str], name: str = "ukdac") -> Project:
        (tmp_path / "Pulumi.yaml").write_text(
            f"name: {name}\nruntime: python\nmain: {ROOT / 'infra'}/\nstackConfigDir: stacks\n",
            encoding="utf-8",
        )
        stack_dir = tmp_path / "stacks"
        stack_dir.mkdir(exist_ok=True)
        for stack, content in stacks.items():
            text = content if isinstance(content, str) else yaml.safe_dump(content)
            (stack_dir / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
        return load_project(tmp_path)

    return make


def schemas_dir() -> Path:
    """../shared/schemas (or UKDAC_SCHEMAS_DIR); tests skip, naming it, only when it is absent."""
    import os

    folder = Path(os.environ.get("UKDAC_SCHEMAS_DIR", ROOT.parent / "shared" / "schemas"))
    if not folder.is_dir():
        pytest.skip(f"schema folder {folder} is absent (set UKDAC_SCHEMAS_DIR)")
    return folder


def schema_file(relative: str) -> Path:
    path = schemas_dir() / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing from the schema folder")
    return path
