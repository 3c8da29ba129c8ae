"""Engine build times and the offline plan beside them (prints figures; not a test).

    python bench/engine.py [--cold]

Warm: `tools/engine.sh` with its caches in place. Cold (--cold): the same into a fresh
UKDAC_ENGINE_HOME, Go module and build caches included (about ten minutes on 2 cores).
Then the offline plan of each stack, for the preview-versus-offline comparison the real
engine tier will make.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _build(home: Path | None) -> float:
    env = dict(os.environ, ENGINE_PARTS="cli")
    if home is not None:
        env["UKDAC_ENGINE_HOME"] = str(home)
    start = time.perf_counter()
    subprocess.run([str(ROOT / "tools" / "engine.sh")], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    if "--cold" in sys.argv:
        with tempfile.TemporaryDirectory(prefix="ukdac-engine-") as home:
            print(f"engine build, cold (CLI): {_build(Path(home)):8.1f} s")
    print(f"engine build, warm (CLI): {_build(None):8.1f} s")
    from infra.plan.engine import plan_stack
    from infra.stack.files import load_project

    project = load_project(ROOT)
    for stack in project.stacks():
        start = time.perf_counter()
        plan = plan_stack(project, stack)
        took = time.perf_counter() - start
        print(f"offline plan {stack:18} {len(plan.resources):4} resources {took:6.2f} s")
    print("real preview, up, destroy: not measured (the language host and providers are")
    print("not served by the Go module proxy: tools/engine.sh says which)")


if __name__ == "__main__":
    main()
