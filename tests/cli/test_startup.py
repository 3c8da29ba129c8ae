"""What `ukdac` imports before a command runs: each command pays only for its own services."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.stacks import ROOT

# Heavy services no command needs at start-up: openstacksdk (preflight, cleanup, sandboxes),
# the mock runtime and the SDKs (plans), phalanx's checkout handling (phalanx-values, secrets).
LAZY = ("openstack", "keystoneauth1", "pulumi", "infra.plan.engine", "infra.ops.phalanx_checkout")


def _last_line(script: str) -> str:
    """The last line `script` prints, run in a fresh interpreter from the repository."""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def _modules_after(code: str) -> set[str]:
    return set(
        json.loads(_last_line(f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"))
    )


def test_the_cli_starts_without_the_services_its_commands_import() -> None:
    loaded = _modules_after("import infra.cli.app")
    assert not loaded & set(LAZY)


def test_a_config_check_runs_without_the_sdks() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from infra.cli.app import app\n"
        "result = CliRunner().invoke(app, ['config', 'check', '--all'])\n"
        "assert result.exit_code == 0, result.output\n"
    )
    assert not _modules_after(code) & {"pulumi", "openstack", "pulumi_openstack"}


def _collector_after(code: str) -> bool:
    return _last_line(f"import gc, sys\n{code}\nprint(gc.isenabled())") == "True"


def test_a_command_runs_without_the_cyclic_collector() -> None:
    code = (
        "sys.argv = ['ukdac', 'config', 'check', '--all']\n"
        "from infra.cli.entrypoint import run\n"
        "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code\n"
    )
    assert not _collector_after(code)


def test_a_process_that_imports_the_cli_keeps_its_collector() -> None:
    assert _collector_after("import infra.cli.app")
