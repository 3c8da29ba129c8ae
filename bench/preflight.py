"""Preflight against the test cloud: wall time and API requests for 3 and 200 nodes.

Prints figures; asserts nothing. Needs the test cloud (`make cloud-up`); also prints how
long the test cloud took to start, from its log.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "infra" / "program"
sys.path.insert(0, str(ROOT))

from infra.ops.cloud import connect  # noqa: E402
from infra.ops.preflight import run_preflight  # noqa: E402
from infra.plan.engine import plan_stack  # noqa: E402
from infra.stack.files import load_project, load_stack_file  # noqa: E402
from infra.stack.validation import validate_stack_file  # noqa: E402
from tests.cloud.conftest import sandbox_stack  # noqa: E402

RUNS = 5


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="ukdac-bench-preflight-"))
    (root / "Pulumi.yaml").write_text(
        f"name: ukdac\nruntime: python\nmain: {PROGRAM}/\nstackConfigDir: stacks\n"
    )
    (root / "stacks").mkdir()
    sizes = {"ukdac-sbx-three": 2, "ukdac-sbx-twohundred": 199}  # + 1 control plane
    for stack, workers in sizes.items():
        document = sandbox_stack(stack.removeprefix("ukdac-sbx-"), workers=workers)
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    project = load_project(root)
    print(f"{'nodes':>6} {'requests':>9} {'median s':>9}")
    for stack, workers in sizes.items():
        stack_file = load_stack_file(project, stack)
        d = validate_stack_file(stack_file)
        plan = plan_stack(project, stack)
        times, requests = [], 0
        for _ in range(RUNS):
            start = time.perf_counter()
            cloud = connect(d.config.cloud.name, d.config.cloud.region)
            run_preflight(cloud, d, plan)
            times.append(time.perf_counter() - start)
            requests = cloud.requests
        print(f"{workers + 1:>6} {requests:>9} {statistics.median(times):>9.2f}")
    summary = Path(os.environ.get("UKDAC_CLOUD_UP_LOG", "/tmp/ukdac-testcloud-up.log"))
    if summary.is_file():
        found = re.search(r"TOTAL up.sh=([0-9.]+)s", summary.read_text())
        if found:
            print(f"test cloud start (up.sh): {found.group(1)} s")


if __name__ == "__main__":
    main()
