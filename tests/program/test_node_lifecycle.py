"""Day two on a copy of prod, through the offline engine's diff: what a change to the stack
file does to the running nodes. A changed recipe keeps every node; growing the cluster only
adds; a group is renewed only by a deliberate new generation, wave by wave."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from infra.plan.diff import StackDiff, diff_plans
from infra.plan.engine import plan_stack
from tests.support.stacks import ROOT

INSTANCE = "openstack:compute/instance:Instance"
PORT = "openstack:networking/port:Port"
PROD = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-prod.yaml").read_text())
GROUPS = [
    {"name": "general", "flavor": "m1.2xlarge", "count": 6},
    {"name": "utility", "flavor": "m1.2xlarge", "count": 10, "labels": {"tier": "utility"}},
]


def _cluster(**settings: Any) -> dict[str, Any]:
    document = copy.deepcopy(PROD)
    document["config"]["ukdac:cluster"] = settings
    return document


def _diff(
    make_project: Callable[..., Any], base: dict[str, Any], head: dict[str, Any]
) -> StackDiff:
    before = plan_stack(make_project({"ukdac-prod": base}), "ukdac-prod")
    after = plan_stack(make_project({"ukdac-prod": head}), "ukdac-prod")
    return diff_plans(before, after)


def _names(diff: StackDiff, kind: str, type_: str = INSTANCE) -> list[str]:
    return sorted(r.name for r in diff.of_kind(kind) if r.type == type_)


RECIPE_CHANGES: dict[str, dict[str, Any]] = {
    "kubernetes patch": {"kubernetesVersion": "1.35.4"},
    "boot from volume": {"bootVolumeSize": 80},
    "a group's flavor": {"nodeGroups": [{**GROUPS[0], "flavor": "m1.xlarge"}, GROUPS[1]]},
    "control-plane flavor": {"controlPlane": {"flavor": "m1.2xlarge", "count": 3}},
}


@pytest.mark.parametrize("change", RECIPE_CHANGES)
def test_a_changed_recipe_keeps_every_running_node(make_project: Any, change: str) -> None:
    diff = _diff(make_project, PROD, _cluster(**RECIPE_CHANGES[change]))
    touched = [r for r in diff.resources if r.type in (INSTANCE, PORT) and r.kind != "keep"]
    assert touched == []
    assert len(_names(diff, "keep")) > 0  # the recipe did change: the nodes are kept anyway


def test_a_new_image_keeps_every_running_node(make_project: Any) -> None:
    head = copy.deepcopy(PROD)
    head["config"]["ukdac:cloud"]["image"] = "ubuntu-24.04-noble-server-20261201"
    diff = _diff(make_project, PROD, head)
    assert [r.name for r in diff.resources if r.type == INSTANCE and r.kind != "keep"] == []


GROWTH: dict[str, dict[str, Any]] = {
    "a node more": {"nodeGroups": [{**GROUPS[0], "count": 7}, GROUPS[1]]},
    "a new group": {"nodeGroups": [*GROUPS, {"name": "gpu", "flavor": "m1.xlarge", "count": 2}]},
    "two control planes more": {"controlPlane": {"flavor": "m1.xlarge", "count": 5}},
}


# A new set of nodes gets a new join token (the old one stops working at once).
JOIN_TOKEN = ["cluster-token-id", "cluster-token-secret", "join-token-secret"]


def _replaced(diff: StackDiff) -> list[str]:
    return sorted(r.name for r in diff.of_kind("replace"))


@pytest.mark.parametrize("change", GROWTH)
def test_growing_the_cluster_only_adds(make_project: Any, change: str) -> None:
    diff = _diff(make_project, PROD, _cluster(**GROWTH[change]))
    assert _replaced(diff) == JOIN_TOKEN and diff.of_kind("remove") == []
    assert _names(diff, "add") != []


def test_a_new_generation_brings_up_a_wave_beside_the_old_one_then_retires_it(
    make_project: Any,
) -> None:
    start = _cluster(nodeGroups=GROUPS)
    rolling = _cluster(nodeGroups=[{**GROUPS[0], "generation": 2, "retiring": 6}, GROUPS[1]])
    step = _cluster(nodeGroups=[{**GROUPS[0], "generation": 2, "retiring": 2}, GROUPS[1]])
    done = _cluster(nodeGroups=[{**GROUPS[0], "generation": 2}, GROUPS[1]])

    up = _diff(make_project, start, rolling)
    assert _names(up, "add") == [f"cluster-general-g2-{i}" for i in range(6)]
    assert _names(up, "add", PORT) == [f"cluster-general-g2-{i}-port" for i in range(6)]
    assert up.of_kind("remove") == [] and _replaced(up) == JOIN_TOKEN

    down = _diff(make_project, rolling, step)  # four old nodes drained: they go
    assert _names(down, "remove") == [f"cluster-general-{i}" for i in range(2, 6)]
    assert down.of_kind("add") == [] and _replaced(down) == JOIN_TOKEN

    finished = _diff(make_project, step, done)
    assert _names(finished, "remove") == ["cluster-general-0", "cluster-general-1"]
    assert finished.of_kind("add") == [] and finished.of_kind("update") == []
    assert _replaced(finished) == JOIN_TOKEN


def test_raising_the_generation_without_retiring_replaces_the_wave_in_one_step(
    make_project: Any,
) -> None:
    """Blue-green: every new node is created before any old one is deleted (the engine
    deletes what left the program last), so the group never has fewer nodes than asked."""
    diff = _diff(
        make_project,
        _cluster(nodeGroups=GROUPS),
        _cluster(nodeGroups=[{**GROUPS[0], "generation": 2}, GROUPS[1]]),
    )
    assert _names(diff, "add") == [f"cluster-general-g2-{i}" for i in range(6)]
    assert _names(diff, "remove") == [f"cluster-general-{i}" for i in range(6)]
    assert _replaced(diff) == JOIN_TOKEN


def test_a_node_that_must_be_replaced_frees_its_pre_made_port_first(make_project: Any) -> None:
    plan = plan_stack(make_project({"ukdac-prod": PROD}), "ukdac-prod")
    for instance in plan.find(INSTANCE):
        assert instance.options.get("deleteBeforeReplace") is True, instance.name


def test_the_diff_reads_a_rollout_as_waves_per_group(make_project: Any) -> None:
    from infra.plan.render import markdown, node_rollout

    rolling = _cluster(nodeGroups=[{**GROUPS[0], "generation": 2, "retiring": 2}, GROUPS[1]])
    diff = _diff(make_project, PROD, rolling)
    # The node set changed, so did the join token in every recipe: the rest are kept.
    assert node_rollout(diff) == [
        "control-plane: 3 kept on their recipe",
        "general: 6 new, 4 retired, 2 kept on their recipe",
        "utility: 10 kept on their recipe",
    ]
    assert "- general: 6 new, 4 retired, 2 kept on their recipe" in markdown([diff])
    patched = _diff(make_project, PROD, _cluster(kubernetesVersion="1.35.4"))
    assert node_rollout(patched) == [
        "control-plane: 3 kept on their recipe",
        "general: 6 kept on their recipe",
        "utility: 10 kept on their recipe",
    ]


def _allowing(*entries: dict[str, str]) -> dict[str, Any]:
    document = copy.deepcopy(PROD)
    document["config"]["ukdac:allow"] = list(entries)
    return document


def test_an_allowed_change_unprotects_exactly_its_resource_and_the_policy_lets_it_through(
    make_project: Any,
) -> None:
    from policies.rules import run_all
    from policies.views import from_plan

    entry = {"resource": "cluster-control-plane-1", "change": "replace", "reason": "OPS-42 fault"}
    project = make_project({"ukdac-prod": _allowing(entry)})
    plan = plan_stack(project, "ukdac-prod")
    unprotected = [
        r.name
        for r in plan.resources
        if r.custom
        and not r.options.get("protect")
        and r.type == INSTANCE
        and r.inputs["metadata"]["ukdac-node-group"] == "control-plane"
    ]
    assert unprotected == ["cluster-control-plane-1"]
    assert any(
        "cluster-control-plane-1 is unprotected for a replace (OPS-42" in w for w in plan.warnings
    )
    admins = ("129.215.0.0/16",)
    assert run_all(from_plan(plan, admins, frozenset({"cluster-control-plane-1"}))) == []
    (violation,) = run_all(from_plan(plan, admins))
    assert "cluster-control-plane-1 is a control plane" in violation.message

    base = plan_stack(make_project({"ukdac-prod": PROD}), "ukdac-prod")
    (change,) = [r for r in diff_plans(base, plan).resources if r.name == "cluster-control-plane-1"]
    assert change.changes[0].path == "options.protect"


def test_an_allowance_that_names_nothing_protected_says_so(make_project: Any) -> None:
    entry = {"resource": "cluster-control-plane-9", "change": "delete", "reason": "a typo here"}
    plan = plan_stack(make_project({"ukdac-prod": _allowing(entry)}), "ukdac-prod")
    assert any("cluster-control-plane-9 names no protected resource" in w for w in plan.warnings)
    assert all(
        r.options.get("protect")
        for r in plan.find(INSTANCE)
        if r.inputs["metadata"]["ukdac-node-group"] == "control-plane"
    )


def test_a_version_bump_reads_as_an_upgrade_in_waves_not_a_rebuild(make_project: Any) -> None:
    from infra.plan.render import kubernetes_upgrade, markdown

    diff = _diff(make_project, PROD, _cluster(kubernetesVersion="1.35.4"))
    (note,) = kubernetes_upgrade(diff)
    assert note.startswith("Kubernetes 1.35.3 -> 1.35.4: new nodes get it")
    assert "control planes one at a time and then workers" in note
    assert f"- {note}" in markdown([diff])
    # Nothing else changing the version, nothing said.
    assert kubernetes_upgrade(_diff(make_project, PROD, _cluster(nodeGroups=GROUPS))) == []
