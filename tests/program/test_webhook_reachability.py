"""The ingress controller's admission webhook can be reached from every API server.

Every Ingress create or update goes through the webhook (the chart's default `Fail` policy),
so an API server that cannot reach it cannot admit phalanx's Ingresses. The webhook runs in
the controller's pods on the control planes (pod addresses, not host networking); each
control plane's API server reaches a pod on another control plane through the CNI's VXLAN
tunnel, so the plan's security groups must let that tunnel through between control planes.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.plan.ids import fake_id
from infra.plan.model import Plan, PlannedResource
from tests.support.stacks import STACKS, config, planned

# The tunnels the kubeadm CNIs are set up with: Calico's VXLAN on UDP 4789 (its default
# vxlanPort) and Cilium's VXLAN on UDP 8472 (its default tunnel port).
TUNNEL = {"kubeadm": ("udp", 4789), "kubeadm-cilium": ("udp", 8472)}
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def _controller(plan: Plan) -> dict[str, Any]:
    (release,) = [
        r for r in plan.find("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "ingress-nginx"
    ]
    return dict(release.inputs["values"]["controller"])


def _control_plane_ports(plan: Plan) -> list[PlannedResource]:
    by_id = {fake_id(r.urn): r for r in plan.resources if r.custom}
    return [
        by_id[network["port"]]
        for instance in plan.find("openstack:compute/instance:Instance")
        if instance.inputs["metadata"]["ukdac-node-group"] == "control-plane"
        for network in instance.inputs["networks"]
    ]


def _admits(rule: dict[str, Any], protocol: str, port: int) -> bool:
    if rule.get("protocol") not in (None, protocol):
        return False
    low, high = rule.get("portRangeMin"), rule.get("portRangeMax")
    return low is None or low <= port <= high


def _allows(
    plan: Plan, src: PlannedResource, dst: PlannedResource, tunnel: tuple[str, int]
) -> bool:
    rules = [r.inputs for r in plan.find("openstack:networking/secGroupRule:SecGroupRule")]
    src_groups = set(src.inputs["securityGroupIds"])
    dst_groups = set(dst.inputs["securityGroupIds"])
    leaves = any(
        r["direction"] == "egress" and r["securityGroupId"] in src_groups and _admits(r, *tunnel)
        for r in rules
    )
    arrives = any(
        r["direction"] == "ingress"
        and r["securityGroupId"] in dst_groups
        and r.get("remoteGroupId") in src_groups
        and _admits(r, *tunnel)
        for r in rules
    )
    return leaves and arrives


@pytest.mark.parametrize("backend", sorted(TUNNEL))
@pytest.mark.parametrize("stack", STACKS)
def test_every_api_server_reaches_the_webhook_on_every_control_plane(
    stack: str, backend: str
) -> None:
    plan = planned(stack, backend)
    controller = _controller(plan)
    # The webhook is on and served by pods on the control planes only.
    assert controller.get("admissionWebhooks", {}).get("enabled", True) is True
    assert CONTROL_PLANE in controller["nodeSelector"]
    assert controller["hostNetwork"] is False
    ports = _control_plane_ports(plan)
    assert len(ports) == config(stack).config.cluster.control_plane.count
    blocked = [
        (src.name, dst.name)
        for src in ports
        for dst in ports
        if src is not dst and not _allows(plan, src, dst, TUNNEL[backend])
    ]
    assert not blocked, f"the {TUNNEL[backend]} tunnel is closed between {blocked}"


def test_some_stack_has_several_control_planes() -> None:
    """Otherwise the check above would only ever see a webhook on the API server's own node."""
    assert any(config(s).config.cluster.control_plane.count > 1 for s in STACKS)
