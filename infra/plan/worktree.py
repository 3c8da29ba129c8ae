"""Plans of another revision of the project, for `ukdac diff --base-ref` (the PR comment).

The base revision's own program plans the base, so a pull request that changes the program is
compared with what the base program did. Most pull requests change stack files only: when the
program (`PROGRAM_PATHS`) is the same at the base as in the working tree, the base's stack
files are planned here, by this process, and a stack file that is the same in both revisions
is planned once. Otherwise the base is planned by its own code in a git worktree, in one
subprocess for every stack, while this process plans the head.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

from infra.errors import UkdacError
from infra.plan.model import Plan
from infra.stack.clock import today
from infra.stack.files import Project

# What decides a plan besides the stack files: the project file and the program's packages.
PROGRAM_PATHS = ("Pulumi.yaml", "infra", "components", "policies")

Planner = Callable[[Project, str], Plan]


class GitError(UkdacError):
    """git could not give the requested revision."""


def _git(repo: Path, *args: str) -> str:
    return _git_bytes(repo, *args).decode()


def _git_bytes(repo: Path, *args: str) -> bytes:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip() or "failed"
        raise GitError(f"git {' '.join(args)}: {message}")
    return result.stdout


def stacks_at(repo: Path, ref: str, stack_dir: str = "stacks") -> list[str]:
    """The stacks that have a file in `stack_dir` at `ref`."""
    names = _git(repo, "ls-tree", "--name-only", ref, f"{stack_dir}/").split()
    return [
        Path(p).name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in names
        if Path(p).name.startswith("Pulumi.") and p.endswith(".yaml")
    ]


def program_unchanged(repo: Path, ref: str) -> bool:
    """Whether the working tree's program is the one at `ref`: no tracked file under
    `PROGRAM_PATHS` differs from it, and none is untracked."""
    _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    differs = subprocess.run(
        ["git", "-C", str(repo), "diff", "--quiet", ref, "--", *PROGRAM_PATHS],
        capture_output=True,
        check=False,
    )
    if differs.returncode not in (0, 1):
        raise GitError(f"git diff {ref}: {differs.stderr.decode(errors='replace').strip()}")
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "--", *PROGRAM_PATHS)
    return differs.returncode == 0 and not untracked.strip()


def stack_files_at(repo: Path, ref: str, stack_dir: str = "stacks") -> dict[str, bytes]:
    """The stack files of `stack_dir` at `ref`, by file name (one `git archive`)."""
    if not stacks_at(repo, ref, stack_dir):
        return {}
    archive = _git_bytes(repo, "archive", "--format=tar", ref, "--", f"{stack_dir}/")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            stream = tar.extractfile(member) if member.isfile() else None
            if stream is not None and name.parent == Path(stack_dir):
                files[name.name] = stream.read()
    return files


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


class _TreePlans:
    """The base's plans, being made by the base's own code in a subprocess."""

    def __init__(self, tree: Path, stacks: list[str], stack_dir: str, out: Path) -> None:
        self.present = [s for s in stacks if (tree / stack_dir / f"Pulumi.{s}.yaml").is_file()]
        self.plans: dict[str, Plan | None] = dict.fromkeys(stacks)
        self.out = out
        command = [sys.executable, "-m", "infra.cli", "plan", *self.present]
        self.process = (
            subprocess.Popen(
                [*command, "--json-dir", str(out), "--quiet"],
                cwd=tree,
                env={
                    "PYTHONPATH": str(tree),
                    "PATH": "/usr/bin:/bin",
                    "HOME": str(Path.home()),
                    # The same day as the head's plan: the join token's expiry is dated.
                    "UKDAC_TODAY": today().isoformat(),
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            if self.present
            else None
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.communicate()

    def result(self) -> dict[str, Plan | None]:
        if self.process is None:
            return self.plans
        stdout, stderr = self.process.communicate()
        if self.process.returncode != 0:
            raise UkdacError(
                f"planning the base revision failed:\n{stderr.strip() or stdout.strip()}"
            )
        for stack in self.present:
            self.plans[stack] = Plan.read(self.out / f"{stack}.json")
        return self.plans


def _plan_here(
    project: Project, stack_files: dict[str, bytes], stacks: list[str], plan: Planner
) -> dict[str, Plan | None]:
    """The base's stack files planned by this process's (identical) program."""
    plans: dict[str, Plan | None] = dict.fromkeys(stacks)
    with tempfile.TemporaryDirectory(prefix="ukdac-base-stacks-") as tmp:
        base = replace(project, stack_dir=Path(tmp))
        for name, content in stack_files.items():
            (base.stack_dir / name).write_bytes(content)
        for stack in stacks:
            if base.stack_path(stack).is_file():
                try:
                    plans[stack] = plan(base, stack)
                except UkdacError as error:
                    raise UkdacError(f"planning the base revision failed:\n{error}") from None
    return plans


def plan_both(
    project: Project, ref: str, stacks: list[str], plan: Planner
) -> tuple[dict[str, Plan | None], dict[str, Plan | None]]:
    """Plans of `stacks` at `ref` (base) and in the working tree (head); None where a
    revision has no file for a stack."""
    stack_dir = project.display(project.stack_dir)
    head_stacks = set(project.stacks())

    def heads() -> dict[str, Plan | None]:
        return {s: plan(project, s) if s in head_stacks else None for s in stacks}

    if not program_unchanged(project.root, ref):
        with ExitStack() as stack:
            tree = stack.enter_context(checkout(project.root, ref))
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ukdac-plans-")))
            running = _TreePlans(tree, stacks, stack_dir, out)  # while the head is planned
            try:
                head = heads()
            except BaseException:
                running.stop()
                raise
            return running.result(), head

    files = stack_files_at(project.root, ref, stack_dir)
    head = heads()
    same = {
        s
        for s in stacks
        if s in head_stacks
        and files.get(project.stack_path(s).name) == project.stack_path(s).read_bytes()
    }
    base = _plan_here(project, files, [s for s in stacks if s not in same], plan)
    base.update({s: head[s] for s in same})
    return base, head
