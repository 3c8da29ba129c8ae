"""The real engine against the offline one, for the same stack in one run (prints figures).

    make cloud-up && make bench-engine          # or: python bench/engine.py [--workers N]

A sandbox-shaped stack (`ukdac:layers: cloud`) on the test cloud, state in a local folder,
secrets by passphrase: the offline plan (`ukdac plan`, the command), then the real
`pulumi preview`, `up`, a no-change `preview` and `destroy`, each timed once as a user waits
for it. Needs `make engine` (the CLI is looked up where it puts it, or UKDAC_ENGINE_BIN).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cloud.conftest import sandbox_stack  # noqa: E402
from tests.support.engine import DEFAULT_BIN, Engine, project_file, write_stack  # noqa: E402

STACK = "bench-sbx"


def timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    took = time.perf_counter() - start
    print(f"{label:34} {took:7.1f} s", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="workers in the node group")
    args = parser.parse_args()
    clouds = os.environ.get(
        "OS_CLIENT_CONFIG_FILE", "/tmp/ukdac-testcloud/etc/openstack/clouds.yaml"
    )
    if not Path(clouds).is_file():
        sys.exit(f"no test cloud ({clouds} is missing): run `make cloud-up` first")
    binary = Path(os.environ.get("UKDAC_ENGINE_BIN", DEFAULT_BIN))
    if not (binary / "pulumi").is_file():
        sys.exit(f"no engine in {binary}: run `make engine` first")
    with tempfile.TemporaryDirectory(prefix="ukdac-bench-engine-") as scratch:
        root = Path(scratch)
        (root / "stacks").mkdir()
        (root / "state").mkdir()
        (root / "Pulumi.yaml").write_text(project_file())
        document = sandbox_stack("bench", workers=args.workers)
        document["config"]["ukdac:layers"] = "cloud"
        write_stack(root, STACK, document)
        engine = Engine(
            bin=binary,
            project=root,
            env={
                "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
                "PULUMI_CONFIG_PASSPHRASE": "bench",
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "OS_CLIENT_CONFIG_FILE": clouds,
            },
        )
        engine.init(STACK)
        from infra.plan.engine import plan_stack
        from infra.stack.files import load_project

        count = len(plan_stack(load_project(root), STACK).resources)
        print(f"stack {STACK}: {count} resources ({args.workers} workers), state in a local folder")
        ukdac = [str(ROOT / ".venv" / "bin" / "ukdac"), "plan", STACK, "--quiet"]
        plan = lambda: subprocess.run(ukdac, cwd=root, check=True)  # noqa: E731
        try:
            timed("offline plan (ukdac plan)", plan)
            timed("real preview", lambda: engine.run("preview", "--stack", STACK))
            timed("real up", lambda: engine.run("up", "--stack", STACK, "--yes", "--skip-preview"))
            timed(
                "no-change preview",
                lambda: engine.run("preview", "--stack", STACK, "--expect-no-changes"),
            )
        finally:
            timed("destroy", lambda: engine.run("destroy", "--stack", STACK, "--yes", "--remove"))


if __name__ == "__main__":
    main()
