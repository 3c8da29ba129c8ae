"""Stacks through their life under the real engine: preview equal to the offline plan, `up`,
no perpetual diff, the day-2 changes `ukdac diff` predicts, clean-up and destroy leaving the
project as it was.

Each shape runs as one test, its steps in order (every step builds on the deployed state of
the one before); an assertion names the step it checks.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.ops.cleanup import CSI_CLUSTER_KEY
from infra.plan.diff import diff_plans
from infra.plan.model import Plan
from tests.cloud.conftest import sandbox_stack
from tests.support.engine import (
    Engine,
    assert_policies_ran,
    deployment_of,
    first_up,
    inventory,
    left_behind,
    offline,
    offline_operations,
    policy_flags,
    ukdac,
    write_stack,
)

MakeEngine = Callable[[dict[str, dict[str, Any]]], Engine]


def step(
    engine: Engine, stack: str, document: dict[str, Any], base: Plan, what: str, apply: bool
) -> tuple[Plan, dict[str, str]]:
    """Write the changed stack file, and check the real preview does resource by resource
    what `ukdac diff` says; then `up` it if `apply`. Returns the new offline plan and the
    operations `ukdac diff` gave, "keep" (changed, but ignored) included."""
    write_stack(engine.project, stack, document)
    head = offline(engine, stack)
    diff = diff_plans(base, head)
    expected = offline_operations(diff)
    preview = engine.preview(stack, *policy_flags(engine, stack))
    assert_policies_ran(preview.text)
    assert preview.returncode == 0, f"{what}: preview failed\n{preview.text[-3000:]}"
    assert preview.changes() == expected, (
        f"{what}: the engine and `ukdac diff` disagree\n"
        f"engine only: {sorted(set(preview.changes().items()) - set(expected.items()))}\n"
        f"offline only: {sorted(set(expected.items()) - set(preview.changes().items()))}"
    )
    if apply:
        engine.run("up", "--stack", stack, "--yes", "--skip-preview")
    return head, {r.urn: r.kind for r in diff.resources}


@pytest.fixture
def made_by_kubernetes(demo: Any) -> Iterator[Callable[[str], list[str]]]:
    """A volume as Cinder CSI makes it for a cluster: what only clean-up removes."""
    made: list[str] = []

    def make(cluster: str) -> list[str]:
        volume = demo.block_storage.create_volume(
            size=1, name=f"pvc-{uuid.uuid4()}", metadata={CSI_CLUSTER_KEY: cluster}
        )
        demo.block_storage.wait_for_status(volume, "available", wait=60)
        made.append(volume.id)
        return made

    yield make
    for volume_id in made:
        demo.block_storage.delete_volume(volume_id, ignore_missing=True)


def sandbox_shape() -> dict[str, Any]:
    document = sandbox_stack("eng", workers=2)
    document["config"]["ukdac:layers"] = "cloud"
    document["config"]["ukdac:buckets"] = {"containers": [{"name": "tap"}, {"name": "files"}]}
    return document


def _changed(document: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    change(result["config"]["ukdac:cluster"])
    return result


def _bump(cluster: dict[str, Any]) -> None:
    cluster["kubernetesVersion"] = "1.35.4"


def _more_workers(cluster: dict[str, Any]) -> None:
    cluster["nodeGroups"][0]["count"] = 3


def _new_group(cluster: dict[str, Any]) -> None:
    cluster["nodeGroups"].append({"name": "batch", "flavor": "m1.tiny", "count": 1})


def _three_control_planes(cluster: dict[str, Any]) -> None:
    cluster["controlPlane"]["count"] = 3


def _roll_workers(cluster: dict[str, Any]) -> None:
    cluster["nodeGroups"][0]["generation"] = 2


# (what, change, applied): the test cloud has one hypervisor, and control planes keep to
# hard anti-affinity, so Nova cannot place a second one there: that change is previewed and
# compared, not applied (then set back).
DAY_TWO = (
    ("a Kubernetes patch bump", _bump, True),
    ("one more worker", _more_workers, True),
    ("a new node group", _new_group, True),
    ("three control planes", _three_control_planes, False),
    ("a worker generation roll", _roll_workers, True),
)


def test_a_sandbox_through_its_life(
    make_engine: MakeEngine, demo: Any, made_by_kubernetes: Callable[[str], list[str]]
) -> None:
    stack = "eng-sbx"
    before = inventory(demo)
    document = sandbox_shape()
    engine = make_engine({stack: document})
    # The first preview names every resource of the offline plan as the engine does; `up`;
    # the deployed state carries the same options; nothing moves afterwards.
    plan = first_up(engine, stack)

    # Day 2: each change does in the engine exactly what `ukdac diff` said it would.
    seen: dict[str, dict[str, str]] = {}
    for what, change, apply in DAY_TWO:
        changed = _changed(document, change)
        head, seen[what] = step(engine, stack, changed, plan, what, apply)
        if apply:
            document, plan = changed, head
    write_stack(engine.project, stack, document)
    # Each change did something (an empty prediction that matched would prove nothing): the
    # bump changed every node's recipe, which applies to new nodes only, so all are kept.
    assert all(seen.values()), seen
    assert set(seen["a Kubernetes patch bump"].values()) == {"keep"}
    assert all(set(ops.values()) - {"keep"} for what, ops in seen.items() if "bump" not in what)
    rolled = seen["a worker generation roll"]
    assert any("-g2-" in urn and op == "add" for urn, op in rolled.items()), rolled
    engine.run("preview", "--stack", stack, "--expect-no-changes")

    # Clean-up takes what Kubernetes made, destroy the rest: the project is as it was.
    d = deployment_of(engine, stack)
    leftovers = made_by_kubernetes(d.names.cluster)
    ukdac(engine, "cleanup", stack, "--yes")
    assert [v for v in leftovers if demo.block_storage.find_volume(v)] == []
    engine.run("destroy", "--stack", stack, "--yes", "--remove")
    assert left_behind(before, inventory(demo)) == {}


def dev_cilium_shape() -> dict[str, Any]:
    """A dev environment with Cilium: its own security rules (VXLAN and health ports) and
    no address pairs, sized for the test cloud."""
    document = sandbox_stack("engdev", workers=1)
    config = document["config"]
    config["ukdac:environment"] = "dev"
    config["ukdac:fqdn"] = "engdev.example.org"
    del config["ukdac:sandbox"]
    config["ukdac:layers"] = "cloud"
    config["ukdac:network"] = {"nodeCidr": "10.40.0.0/24"}
    config["ukdac:cluster"]["cni"] = "cilium"
    config["ukdac:phalanx"] = {"environment": "engdev"}
    return document


def test_a_dev_stack_with_cilium_up_and_down(make_engine: MakeEngine, demo: Any) -> None:
    stack = "eng-dev"
    before = inventory(demo)
    engine = make_engine({stack: dev_cilium_shape()})
    first_up(engine, stack)
    engine.run("destroy", "--stack", stack, "--yes", "--remove")
    assert left_behind(before, inventory(demo)) == {}
