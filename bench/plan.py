"""Plan-time benchmark: per stack, the median of 5 offline plans against the bare SDK import.

Prints figures; asserts nothing. Each measurement runs in a fresh interpreter so imports are
cold, as they are for `ukdac plan` or a CI job:
  import   python -c "import pulumi_openstack, pulumi_kubernetes"
  plan     python -c "<import the SDKs and ukdac, then plan STACK once>" (import included)
and, in one warm process, the plan alone (what a test suite or `plan --all` pays per stack).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
IMPORT = "import pulumi_openstack, pulumi_kubernetes"
PLAN = (
    "import pulumi_openstack, pulumi_kubernetes\n"
    "from infra.stackfile import load_project\n"
    "from infra.offline.engine import plan_stack\n"
    "plan_stack(load_project({root!r}), {stack!r})\n"
)


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - start


def median(code: str) -> float:
    return statistics.median(timed(code) for _ in range(RUNS))


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from infra.offline.engine import plan_stack
    from infra.stackfile import load_project

    project = load_project(ROOT)
    bare = median(IMPORT)
    print(f"bare SDK import ({IMPORT}): median of {RUNS} = {bare:.3f} s")
    print(
        f"{'stack':<20} {'resources':>9} {'plan (cold) s':>14} {'ratio':>6} {'plan (warm) s':>14}"
    )
    for stack in project.stacks():
        cold = median(PLAN.format(root=str(ROOT), stack=stack))
        warm_runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            plan = plan_stack(project, stack)
            warm_runs.append(time.perf_counter() - start)
        warm = statistics.median(warm_runs)
        print(
            f"{stack:<20} {len(plan.resources):>9} {cold:>14.3f} {cold / bare:>6.2f} {warm:>14.3f}"
        )


if __name__ == "__main__":
    main()
