"""What users wait for, timed as they run it, each figure against the bare SDK import.

Prints figures; asserts nothing. Every command runs in a fresh process exactly as typed
(`.venv/bin/ukdac ...`), alternating with the bare import so that a slow spell of a shared
machine lands on both; each row gives the median of RUNS and the median of the ratios:
  import          python -c "import pulumi_openstack, pulumi_kubernetes"
  plan STACK      ukdac plan STACK (every stack)
  config check    ukdac config check --all
  PR diff         ukdac diff --base-ref HEAD --markdown, in a clone of this repository whose
                  working tree changes (a) one stack file, (b) the program
then, in one process, the warm plan of ukdac-dev scaled to 3, 50 and 200 workers, and the
cold `ukdac plan` of those stacks, with what each added worker costs between those sizes and
what the largest plan handles against the smallest (resources, inputs, dependencies, calls).
"""

from __future__ import annotations

import cProfile
import functools
import itertools
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "infra" / "program"
UKDAC = str(ROOT / ".venv" / "bin" / "ukdac")
RUNS = 5
IMPORT = [sys.executable, "-c", "import pulumi_openstack, pulumi_kubernetes"]
SCALE_NODES = (3, 50, 200)


def timed(command: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def against_import(command: list[str], cwd: Path = ROOT) -> tuple[float, float, float]:
    """Medians of the bare import, of `command`, and of their ratios, timed in alternation."""
    bare_runs, runs = [], []
    for _ in range(RUNS):
        bare_runs.append(timed(IMPORT))
        runs.append(timed(command, cwd))
    ratios = [run / bare for run, bare in zip(runs, bare_runs, strict=True)]
    return statistics.median(bare_runs), statistics.median(runs), statistics.median(ratios)


def row(label: str, command: list[str], cwd: Path = ROOT) -> None:
    bare, run, ratio = against_import(command, cwd)
    print(f"{label:<38} {bare:>9.3f} {run:>9.3f} {ratio:>7.2f}")


def _clone(change: Callable[[Path], None]) -> Path:
    """A clone of this repository at HEAD with `change` made in its working tree."""
    clone = Path(tempfile.mkdtemp(prefix="ukdac-bench-clone-")) / "repo"
    subprocess.run(["git", "clone", "--quiet", "--local", str(ROOT), str(clone)], check=True)
    change(clone)
    return clone


def _stack_change(clone: Path) -> None:
    path = clone / "stacks" / "Pulumi.ukdac-dev.yaml"
    text = path.read_text()
    assert "name: somerville-ukdac-dev" in text
    path.write_text(text.replace("name: somerville-ukdac-dev", "name: somerville-dev2"))


def _program_change(clone: Path) -> None:
    path = clone / "infra" / "program" / "build.py"
    path.write_text(path.read_text() + "\n# changed\n")


def _scaled_project(workers: int) -> Path:
    """A throwaway project whose stack is ukdac-dev with `workers` worker nodes."""
    import yaml

    root = Path(tempfile.mkdtemp(prefix="ukdac-bench-"))
    (root / "Pulumi.yaml").write_text(
        f"name: ukdac\nruntime: python\nmain: {PROGRAM}/\nstackConfigDir: stacks\n"
    )
    (root / "stacks").mkdir()
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-dev.yaml").read_text())
    document["config"]["ukdac:cluster"] = {
        "nodeGroups": [
            {
                "name": "workers",
                "flavor": "m1.xlarge",
                "count": workers,
                "labels": {"tier": "utility"},
            }
        ]
    }
    (root / "stacks" / "Pulumi.ukdac-dev.yaml").write_text(yaml.safe_dump(document))
    return root


def _work(plan_once: Callable[[], Any]) -> dict[str, int]:
    """What one plan handles, counted rather than timed: its resources, their input
    properties and dependencies (from the plan), and the Python calls made (one profiled run)."""
    profiler = cProfile.Profile()
    plan = profiler.runcall(plan_once)
    stats: dict[Any, tuple[int, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return {
        "resources": len(plan.resources),
        "input properties": sum(len(r.inputs) for r in plan.resources),
        "dependencies": sum(len(r.dependencies) for r in plan.resources),
        "Python calls": sum(counts[1] for counts in stats.values()),
    }


def scaling() -> None:
    from infra.plan.engine import plan_stack
    from infra.stack.files import load_project

    print(f"\n{'workers':>7} {'resources':>9} {'ukdac plan (cold) s':>20} {'plan (warm) s':>14}")
    roots = {workers: _scaled_project(workers) for workers in SCALE_NODES}
    projects = {workers: load_project(root) for workers, root in roots.items()}
    sizes = {w: len(plan_stack(project, "ukdac-dev").resources) for w, project in projects.items()}
    # Round-robin over the sizes, as the rows above alternate with the import: a slow spell
    # of a shared machine then lands on every size instead of skewing their ratio.
    cold_runs: dict[int, list[float]] = {workers: [] for workers in SCALE_NODES}
    warm_runs: dict[int, list[float]] = {workers: [] for workers in SCALE_NODES}
    for _ in range(RUNS):
        for workers in SCALE_NODES:
            cold_runs[workers].append(timed([UKDAC, "plan", "ukdac-dev"], roots[workers]))
            start = time.perf_counter()
            plan_stack(projects[workers], "ukdac-dev")
            warm_runs[workers].append(time.perf_counter() - start)
    warm = {workers: statistics.median(runs) for workers, runs in warm_runs.items()}
    for workers in SCALE_NODES:
        cold = statistics.median(cold_runs[workers])
        print(f"{workers:>7} {sizes[workers]:>9} {cold:>20.3f} {warm[workers]:>14.3f}")
    low, high = SCALE_NODES[0], SCALE_NODES[-1]
    print(
        f"warm plan {high}/{low} workers: {warm[high] / warm[low]:.2f} times the time "
        f"for {sizes[high] / sizes[low]:.2f} times the resources"
    )
    # Linear means each added worker costs the same, whatever the size; the ratio above also
    # depends on how a worker's resources compare with the stack's average one.
    print(f"the {low}-worker plan: {warm[low] / sizes[low] * 1000:.2f} ms per resource")
    for small, large in itertools.pairwise(SCALE_NODES):
        added = warm[large] - warm[small]
        print(
            f"from {small} to {large} workers: {added / (large - small) * 1000:.2f} ms per "
            f"added worker, {added / (sizes[large] - sizes[small]) * 1000:.2f} ms per added "
            "resource"
        )
    # A worker's server and port carry more inputs, outputs and dependencies than the stack's
    # average resource: the resource count understates the work the larger plan does.
    work = {w: _work(functools.partial(plan_stack, projects[w], "ukdac-dev")) for w in (low, high)}
    print(
        f"work of the {high}-worker plan against the {low}-worker one: "
        + ", ".join(f"{key} {work[high][key] / work[low][key]:.2f}x" for key in work[low])
    )


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from infra.stack.files import load_project

    print(f"medians of {RUNS}, each command alternating with the bare SDK import")
    print(f"{'command':<38} {'import s':>9} {'command s':>9} {'ratio':>7}")
    for stack in load_project(ROOT).stacks():
        row(f"ukdac plan {stack}", [UKDAC, "plan", stack])
    row("ukdac config check --all", [UKDAC, "config", "check", "--all"])
    diff = [UKDAC, "diff", "--base-ref", "HEAD", "--markdown"]
    row("PR diff, 4 stacks (a stack file)", diff, _clone(_stack_change))
    row("PR diff, 4 stacks (the program)", diff, _clone(_program_change))
    scaling()


if __name__ == "__main__":
    main()
