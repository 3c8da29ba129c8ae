"""Plan-time benchmark: per stack, the median of 5 offline plans against the bare SDK import.

Prints figures; asserts nothing. Each cold measurement runs in a fresh interpreter, as
`ukdac plan` or a CI job does, and plans alternate with the bare import:
  import   python -c "import pulumi_openstack, pulumi_kubernetes"
  plan     python -c "<import the SDKs and ukdac, then plan STACK once>" (import included)
and, in one warm process, the plan alone (what a test suite or `plan --all` pays per stack),
then the same for ukdac-dev scaled to 3, 50 and 200 workers.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "infra" / "program"
RUNS = 5
IMPORT = "import pulumi_openstack, pulumi_kubernetes"
PLAN = (
    "import pulumi_openstack, pulumi_kubernetes\n"
    "from infra.stack.files import load_project\n"
    "from infra.plan.engine import plan_stack\n"
    "plan_stack(load_project({root!r}), {stack!r})\n"
)


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - start


def median(code: str) -> float:
    return statistics.median(timed(code) for _ in range(RUNS))


SCALE_NODES = (3, 50, 200)


def _scaled_project(workers: int) -> Path:
    """A throwaway project whose stack is ukdac-dev with `workers` worker nodes."""
    import tempfile

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


def scaling() -> None:
    from infra.plan.engine import plan_stack
    from infra.stack.files import load_project

    print(f"\n{'workers':>7} {'resources':>9} {'plan (cold) s':>14} {'plan (warm) s':>14}")
    warm: dict[int, float] = {}
    for workers in SCALE_NODES:
        root = _scaled_project(workers)
        cold = median(PLAN.format(root=str(root), stack="ukdac-dev"))
        project = load_project(root)
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            plan = plan_stack(project, "ukdac-dev")
            runs.append(time.perf_counter() - start)
        warm[workers] = statistics.median(runs)
        print(f"{workers:>7} {len(plan.resources):>9} {cold:>14.3f} {warm[workers]:>14.3f}")
    low, high = SCALE_NODES[0], SCALE_NODES[-1]
    print(f"ratio {high}/{low} (warm plan): {warm[high] / warm[low]:.2f}")


def interleaved(code: str) -> tuple[float, float, float]:
    """Medians of `code` and of the bare import timed in alternation, and of their ratios.

    Alternating the two keeps a slow spell of a shared machine from landing on one side only.
    """
    bare_runs, runs = [], []
    for _ in range(RUNS):
        bare_runs.append(timed(IMPORT))
        runs.append(timed(code))
    ratios = [run / bare for run, bare in zip(runs, bare_runs, strict=True)]
    return statistics.median(bare_runs), statistics.median(runs), statistics.median(ratios)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from infra.plan.engine import plan_stack
    from infra.stack.files import load_project

    project = load_project(ROOT)
    print(f"bare SDK import: {IMPORT}; cold plans alternate with it, medians of {RUNS}")
    print(
        f"{'stack':<20} {'resources':>9} {'import s':>9} {'plan (cold) s':>14} {'ratio':>6} "
        f"{'plan (warm) s':>14}"
    )
    for stack in project.stacks():
        bare, cold, ratio = interleaved(PLAN.format(root=str(ROOT), stack=stack))
        warm_runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            plan = plan_stack(project, stack)
            warm_runs.append(time.perf_counter() - start)
        warm = statistics.median(warm_runs)
        print(
            f"{stack:<20} {len(plan.resources):>9} {bare:>9.3f} {cold:>14.3f} {ratio:>6.2f} "
            f"{warm:>14.3f}"
        )
    scaling()


if __name__ == "__main__":
    main()
