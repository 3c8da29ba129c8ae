"""Shared fixtures: the real project, throwaway projects with their own stack files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stack.files import Project, load_project
from tests.support.stacks import ROOT, project_file

# The program's one input outside the stack file (the join token's expiry), fixed so that
# plans, golden files included, do not change with the calendar.
os.environ["UKDAC_TODAY"] = "2026-12-01"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden from the current plans (review the diff before committing).",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(ROOT)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """A project in tmp_path running the real program, with the given stack files."""

    def make(stacks: dict[str, dict[str, Any] | str], name: str = "ukdac") -> Project:
        (tmp_path / "Pulumi.yaml").write_text(project_file(name), encoding="utf-8")
        stack_dir = tmp_path / "stacks"
        stack_dir.mkdir(exist_ok=True)
        for stack, content in stacks.items():
            text = content if isinstance(content, str) else yaml.safe_dump(content)
            (stack_dir / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
        return load_project(tmp_path)

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The bad-input corpus's figures, when its test ran."""
    from tests.stack.test_bad_input import SUMMARY

    for line in SUMMARY:
        terminalreporter.write_line(line)
