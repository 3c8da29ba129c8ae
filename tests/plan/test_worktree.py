"""The base revision's plans: this process's program when it is the base's, else the base's own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.plan.model import Plan
from infra.plan.worktree import plan_both, program_unchanged, stack_files_at
from infra.stack.files import Project, load_project


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed project: two stacks, a program module, a README."""
    root = tmp_path / "repo"
    (root / "stacks").mkdir(parents=True)
    (root / "infra").mkdir()
    (root / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
    (root / "infra" / "program.py").write_text("VALUE = 1\n")
    (root / "README.md").write_text("read me\n")
    for stack in ("a", "b"):
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(f"config:\n  p:name: {stack}\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "base")
    return root


class Recorder:
    """A planner that records what it was asked and plans a stack file as its text."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, project: Project, stack: str) -> Plan:
        text = project.stack_path(stack).read_text()
        self.calls.append((stack, text))
        return Plan(project=project.name, stack=stack, resources=[], outputs={"file": text})


def test_the_program_is_unchanged_by_stack_files_and_docs_only(repo: Path) -> None:
    assert program_unchanged(repo, "HEAD")
    (repo / "stacks" / "Pulumi.a.yaml").write_text("config:\n  p:name: changed\n")
    (repo / "README.md").write_text("changed\n")
    assert program_unchanged(repo, "HEAD")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r / "infra" / "program.py").write_text("VALUE = 2\n"),
        lambda r: (r / "infra" / "new_module.py").write_text("X = 1\n"),  # untracked
        lambda r: (r / "Pulumi.yaml").write_text("name: q\nruntime: python\n"),
        lambda r: (r / "infra" / "program.py").unlink(),
    ],
    ids=["edited", "untracked", "project-file", "deleted"],
)
def test_any_program_change_counts(repo: Path, change: object) -> None:
    assert callable(change)
    change(repo)
    assert not program_unchanged(repo, "HEAD")


def test_stack_files_at_a_revision_are_read_from_git(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.a.yaml").write_text("changed in the working tree\n")
    files = stack_files_at(repo, "HEAD")
    assert files == {
        "Pulumi.a.yaml": b"config:\n  p:name: a\n",
        "Pulumi.b.yaml": b"config:\n  p:name: b\n",
    }


def test_an_unchanged_program_plans_the_base_here_and_each_same_file_once(repo: Path) -> None:
    (repo / "stacks" / "Pulumi.a.yaml").write_text("config:\n  p:name: a2\n")
    (repo / "stacks" / "Pulumi.b.yaml").unlink()
    (repo / "stacks" / "Pulumi.c.yaml").write_text("config:\n  p:name: c\n")
    planner = Recorder()
    base, head = plan_both(load_project(repo), "HEAD", ["a", "b", "c"], planner)
    # a differs: planned from each revision's file; b is in the base only, c in the head only.
    assert base["a"] is not None and base["a"].outputs["file"] == "config:\n  p:name: a\n"
    assert head["a"] is not None and head["a"].outputs["file"] == "config:\n  p:name: a2\n"
    assert base["b"] is not None and head["b"] is None
    assert base["c"] is None and head["c"] is not None
    assert sorted(stack for stack, _ in planner.calls) == ["a", "a", "b", "c"]
    # No worktree was made for it.
    assert _git(repo, "worktree", "list").count("\n") == 1


def test_a_stack_file_the_same_in_both_is_planned_once(repo: Path) -> None:
    planner = Recorder()
    base, head = plan_both(load_project(repo), "HEAD", ["a", "b"], planner)
    assert base == head and planner.calls == [
        ("a", "config:\n  p:name: a\n"),
        ("b", "config:\n  p:name: b\n"),
    ]


def test_a_broken_base_stack_file_says_it_is_the_base(repo: Path) -> None:
    from infra.errors import UkdacError

    def failing(project: Project, stack: str) -> Plan:
        if "ukdac-base-stacks" in str(project.stack_dir):
            raise UkdacError(f"{stack}: broken")
        return Recorder()(project, stack)

    (repo / "stacks" / "Pulumi.a.yaml").write_text("config:\n  p:name: a2\n")
    with pytest.raises(UkdacError, match="planning the base revision failed:\na: broken"):
        plan_both(load_project(repo), "HEAD", ["a"], failing)
