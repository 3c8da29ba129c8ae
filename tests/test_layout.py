"""The tree is the architecture: documented places exist, roles import only what they may."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.stacks import ROOT

# Which top-level parts of `infra` each role may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "infra/stack": {"infra.errors", "infra.versions"},
    "infra/program": {"infra.errors", "infra.versions", "infra.stack"},
    "infra/plan": {"infra.errors", "infra.versions", "infra.stack"},
    "infra/ops": {"infra.errors", "infra.versions", "infra.stack", "infra.plan"},
    "components": set(),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _part(module: str) -> str | None:
    """`infra.stack.model` -> `infra.stack`; `infra.errors` stays; non-infra -> None."""
    parts = module.split(".")
    if parts[0] != "infra" or len(parts) == 1:
        return None
    return ".".join(parts[:2])


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_imports_only_what_it_may(role: str) -> None:
    own = role.replace("/", ".")
    bad = []
    for path in sorted((ROOT / role).rglob("*.py")):
        for module in _imports(path):
            part = _part(module)
            if part is not None and part != own and part not in ALLOWED[role]:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


def test_every_infra_package_says_what_lives_there() -> None:
    for init in sorted((ROOT / "infra").glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and "import" in docstring.lower(), init.relative_to(ROOT)


def test_the_where_does_x_live_table_matches_the_tree() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Where does X live", 1)[1].split("\n## ", 1)[0]
    paths = set()
    for row in table.splitlines():
        if row.startswith("| ") and not row.startswith(("| what", "|---")):
            where = row.rsplit("|", 2)[1]
            paths.update(re.findall(r"`([^`]+)`", where))
    assert len(paths) > 20
    missing = []
    for path in paths:
        if "<" in path:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    assert missing == []


def test_no_document_points_outside_the_repository() -> None:
    documents = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for document in documents:
        assert "../shared" not in document.read_text(encoding="utf-8"), document
