"""Reviewed snapshots of every stack's masked plan, in every variant.

A change to any input of any resource fails here and shows the plan diff; a change that
renames a resource (its type, logical name or parent) fails with how many resources the
engine would delete and recreate, unless the change adds an alias for the old identity.
After reviewing an intended change, regenerate the snapshots:

    .venv/bin/pytest tests/program/test_golden.py --update-golden
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from infra.plan.diff import diff_plans
from infra.plan.model import Plan, PlannedResource
from infra.plan.render import render_diff
from tests.support.stacks import BACKENDS, ROOT, STACKS, planned
from tests.support.urns import alias_urns

GOLDEN = ROOT / "tests" / "golden"
CASES = [(stack, variant) for stack in STACKS for variant in BACKENDS]


def _path(stack: str, variant: str) -> Path:
    return GOLDEN / f"{stack}.{variant}.json"


@pytest.mark.parametrize(("stack", "variant"), CASES)
def test_resource_identities_are_kept(stack: str, variant: str, update_golden: bool) -> None:
    path = _path(stack, variant)
    if update_golden or not path.exists():
        pytest.skip("snapshot being written by test_plan_matches_its_snapshot")
    golden = Plan.read(path)
    current = planned(stack, variant)
    now = {r.urn for r in current.resources}
    claimed = set().union(*(alias_urns(r) for r in current.resources))
    lost = sorted(r.urn for r in golden.resources if r.urn not in now and r.urn not in claimed)
    assert not lost, (
        f"{stack} ({variant}): the change would delete and recreate {len(lost)} resources "
        f"(a renamed type, logical name or parent); add an alias for each, or regenerate "
        f"the snapshot if that is meant:\n  " + "\n  ".join(lost[:20])
    )


@pytest.mark.parametrize(("stack", "variant"), CASES)
def test_plan_matches_its_snapshot(stack: str, variant: str, update_golden: bool) -> None:
    path = _path(stack, variant)
    current = planned(stack, variant)
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(current.to_json(), encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with --update-golden and review it"
    golden = Plan.read(path)
    if golden != current:
        console = Console(width=140, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(render_diff([diff_plans(golden, current)]))
        pytest.fail(
            f"{stack} ({variant}) differs from tests/golden/{path.name}; if the change is "
            f"meant, regenerate with --update-golden and review the diff:\n"
            + console.export_text()[:6000]
        )


def test_the_alias_urn_of_a_type_change_is_the_old_urn() -> None:
    resource = PlannedResource(
        urn="urn:pulumi:s::p::ukdac:kubernetes:CloudProvider$kubernetes:storage.k8s.io/v1:StorageClass::sc",
        type="kubernetes:storage.k8s.io/v1:StorageClass",
        name="sc",
        custom=True,
        options={"aliases": [{"spec": {"type": "kubernetes:storage.k8s.io/v1beta1:StorageClass"}}]},
    )
    assert alias_urns(resource) == {
        "urn:pulumi:s::p::ukdac:kubernetes:CloudProvider$kubernetes:storage.k8s.io/v1beta1:StorageClass::sc"
    }
    renamed = resource.model_copy(update={"options": {"aliases": [{"spec": {"name": "old"}}]}})
    assert alias_urns(renamed) == {
        "urn:pulumi:s::p::ukdac:kubernetes:CloudProvider$kubernetes:storage.k8s.io/v1:StorageClass::old"
    }
