"""Planning another revision of the project: a git worktree and a subprocess of that tree.

The base revision's own code plans the base (its `infra` package comes first on the path),
so a pull request that changes the program is compared with what the base program did.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.errors import UkdacError
from infra.plan.model import Plan
from infra.stack.clock import today


class GitError(UkdacError):
    """git could not give the requested revision."""


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def stacks_at(repo: Path, ref: str, stack_dir: str = "stacks") -> list[str]:
    """The stacks that have a file in `stack_dir` at `ref`."""
    names = _git(repo, "ls-tree", "--name-only", ref, f"{stack_dir}/").split()
    return [
        Path(p).name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in names
        if Path(p).name.startswith("Pulumi.") and p.endswith(".yaml")
    ]


@contextmanager
def checkout(repo: Path, ref: str) -> Iterator[Path]:
    """A detached worktree of `ref`, removed afterwards."""
    _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix="ukdac-base-") as tmp:
        tree = Path(tmp) / "tree"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), ref)
        try:
            yield tree
        finally:
            _git(repo, "worktree", "remove", "--force", str(tree))


def plan_tree(tree: Path, stacks: list[str], stack_dir: str = "stacks") -> dict[str, Plan | None]:
    """Plans of `stacks` made by the code in `tree`; None for a stack with no file there."""
    present = [s for s in stacks if (tree / stack_dir / f"Pulumi.{s}.yaml").is_file()]
    plans: dict[str, Plan | None] = dict.fromkeys(stacks)
    if not present:
        return plans
    with tempfile.TemporaryDirectory(prefix="ukdac-plans-") as out:
        result = subprocess.run(
            [sys.executable, "-m", "infra.cli", "plan", *present, "--json-dir", out, "--quiet"],
            cwd=tree,
            env={
                "PYTHONPATH": str(tree),
                "PATH": "/usr/bin:/bin",
                "HOME": str(Path.home()),
                # The same day as the head's plan: the join token's expiry is dated.
                "UKDAC_TODAY": today().isoformat(),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise UkdacError(
                f"planning the base revision failed:\n{result.stderr.strip() or result.stdout}"
            )
        for stack in present:
            plans[stack] = Plan.read(Path(out) / f"{stack}.json")
    return plans
