"""The policy pack inside the real engine: every policy the engine can feed refuses a preview
that breaks it, and lets the same program through unbroken."""

from __future__ import annotations

import json
from pathlib import Path

from policies.rules import POLICIES
from tests.support.engine import ROOT, Engine, assert_policies_ran

PROGRAM = Path(__file__).parent / "violations"
# The engine does not tell a policy pack which values are secret, nor retainOnDelete: these
# two run on the offline plan only (`ukdac policy-check`, the unit suite, the PR diff).
OFFLINE_ONLY = {"credentials-are-secret", "prod-buckets-retained"}


def _preview(engine: Engine, broken: bool) -> tuple[int, str]:
    config = engine.project / "policy.json"
    settings = {"environment": "prod", "adminCidrs": ["129.215.0.0/16"], "allowed": []}
    config.write_text(json.dumps({policy.name: settings for policy in POLICIES}))
    engine.run("config", "set", "--stack", "violations", "broken", str(broken).lower())
    result = engine.run(
        "preview",
        "--stack",
        "violations",
        "--policy-pack",
        str(ROOT / "policies"),
        "--policy-pack-config",
        str(config),
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_each_policy_refuses_a_preview_that_breaks_it(engine_for_program: Engine) -> None:
    engine = engine_for_program
    engine.init("violations")
    engine.run("config", "set", "--stack", "violations", "cloud", "osbox-demo")

    status, text = _preview(engine, broken=False)
    assert status == 0, text[-3000:]
    assert_policies_ran(text)

    status, text = _preview(engine, broken=True)
    assert status != 0
    assert_policies_ran(text)
    refused = {p.name for p in POLICIES if f"[mandatory]  {p.name}" in text}
    assert refused == {p.name for p in POLICIES} - OFFLINE_ONLY, text[-4000:]
