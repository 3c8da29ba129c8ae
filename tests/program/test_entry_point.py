"""The entry point as each profile chooses it: the floating IP on control plane 0 (dev,
sandboxes), or an Octavia load balancer over every control plane (test, prod), which the
API's clients, the ingress's visitors and every node reach instead of one server."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
import yaml

from components.openstack.kubeadm_cluster import RESERVED_HOSTS as COMPONENT_RESERVED
from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.plan.ids import fake_id
from infra.plan.model import Plan, PlannedResource
from infra.stack.rules import RESERVED_HOSTS as RULES_RESERVED
from tests.support.stacks import ROOT, STACKS, config, planned

LB = "openstack:loadbalancer/loadBalancer:LoadBalancer"
LISTENER = "openstack:loadbalancer/listener:Listener"
POOL = "openstack:loadbalancer/pool:Pool"
MEMBER = "openstack:loadbalancer/member:Member"
ASSOCIATE = "openstack:networking/floatingIpAssociate:FloatingIpAssociate"
PORT = "openstack:networking/port:Port"
INSTANCE = "openstack:compute/instance:Instance"
RULE = "openstack:networking/secGroupRule:SecGroupRule"


def _balanced(stack: str) -> bool:
    return config(stack).config.cluster.endpoint == "loadbalancer"


def _by_urn(plan: Plan) -> dict[str, PlannedResource]:
    return {r.urn: r for r in plan.resources}


def _hosts_line(resource: PlannedResource) -> str:
    runcmd = yaml.safe_load(resource.inputs["userData"])["runcmd"]
    (line,) = [c for c in runcmd if isinstance(c, str) and c.endswith(">> /etc/hosts")]
    return line


@pytest.mark.parametrize("stack", STACKS)
def test_the_profile_chooses_the_entry(stack: str) -> None:
    environment = config(stack).config.environment
    assert _balanced(stack) == (environment in ("test", "prod"))


@pytest.mark.parametrize("stack", [s for s in STACKS if _balanced(s)])
def test_a_balancer_over_every_control_plane_carries_the_floating_ip(stack: str) -> None:
    d = config(stack)
    plan = planned(stack)
    cidr = ipaddress.ip_network(str(d.config.network.node_cidr))
    (balancer,) = plan.find(LB)
    assert balancer.inputs["vipAddress"] == str(cidr.network_address + 9)
    (association,) = plan.find(ASSOCIATE)
    assert association.inputs["portId"] == fake_id("port", balancer.urn)
    listeners = {r.inputs["protocolPort"]: r for r in plan.find(LISTENER)}
    assert set(listeners) == {80, 443, 6443}
    admins = [str(c) for c in d.config.cloud.admin_cidrs]
    assert listeners[6443].inputs["allowedCidrs"] == [*admins, str(cidr)]
    assert "allowedCidrs" not in listeners[443].inputs  # the world
    pools = {r.inputs["name"].rsplit("-", 1)[1]: r for r in plan.find(POOL)}
    assert {p: pools[p].inputs["protocol"] for p in pools} == {
        "6443": "TCP",
        "80": "PROXY",
        "443": "PROXY",
    }
    control_planes = [str(cidr.network_address + 10 + i) for i in range(3)]
    for port in ("80", "443", "6443"):
        members = [m for m in plan.find(MEMBER) if m.name.startswith(f"cluster-api-{port}-")]
        assert sorted(m.inputs["address"] for m in members) == control_planes
    # No server is reachable from the world: the ingress group is on no port.
    ingress_group = [r for r in plan.resources if r.name == "security-groups-ingress"]
    (group,) = ingress_group
    for port in plan.find(PORT):
        assert fake_id(group.urn) not in port.inputs["securityGroupIds"], port.name
    # The ingress controller expects the client's address by PROXY protocol.
    (release,) = [
        r for r in plan.find("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "ingress-nginx"
    ]
    assert release.inputs["values"]["controller"]["config"]["use-proxy-protocol"] == "true"


@pytest.mark.parametrize("stack", [s for s in STACKS if _balanced(s)])
def test_the_control_planes_admit_the_balancer_from_the_node_subnet(stack: str) -> None:
    plan = planned(stack)
    cidr = str(config(stack).config.network.node_cidr)
    from_balancer = {
        r.inputs["portRangeMin"]
        for r in plan.find(RULE)
        if r.inputs.get("remoteIpPrefix") == cidr and "control-plane" in r.name
    }
    assert from_balancer == {80, 443, 6443}


@pytest.mark.parametrize("stack", [s for s in STACKS if _balanced(s)])
def test_nodes_reach_the_api_through_the_vip_and_its_address_is_in_the_certificate(
    stack: str,
) -> None:
    d = config(stack)
    plan = planned(stack, show_secrets=True)
    cidr = ipaddress.ip_network(str(d.config.network.node_cidr))
    vip, first = str(cidr.network_address + 9), str(cidr.network_address + 10)
    for instance in plan.find(INSTANCE):
        expected = first if instance.name == "cluster-control-plane-0" else vip
        assert _hosts_line(instance) == f"echo '{expected} {d.names.api_host}' >> /etc/hosts"
    (first_cp,) = [i for i in plan.find(INSTANCE) if i.name == "cluster-control-plane-0"]
    files = yaml.safe_load(first_cp.inputs["userData"])["write_files"]
    text = next(f["content"] for f in files if f["path"] == "/etc/kubernetes/kubeadm.yaml")
    cluster = next(d for d in yaml.safe_load_all(text) if d["kind"] == "ClusterConfiguration")
    assert vip in cluster["apiServer"]["certSANs"]


@pytest.mark.parametrize("stack", [s for s in STACKS if not _balanced(s)])
def test_without_a_balancer_the_floating_ip_sits_on_control_plane_0(stack: str) -> None:
    plan = planned(stack)
    assert plan.find(LB) == []
    (association,) = plan.find(ASSOCIATE)
    (port,) = [p for p in plan.find(PORT) if p.name == "cluster-control-plane-0-port"]
    assert association.inputs["portId"] == fake_id(port.urn)
    (release,) = [
        r for r in plan.find("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "ingress-nginx"
    ]
    assert "use-proxy-protocol" not in release.inputs["values"]["controller"]["config"]


@pytest.mark.parametrize("stack", STACKS)
def test_dhcp_never_hands_out_a_fixed_address(stack: str) -> None:
    """Workers' ports take DHCP's addresses; the VIP and the control planes' are fixed
    below the pool, so a worker's port created first cannot take one of them."""
    assert COMPONENT_RESERVED == RULES_RESERVED
    d = config(stack)
    plan = planned(stack)
    cidr = ipaddress.ip_network(str(d.config.network.node_cidr))
    (subnet,) = plan.find("openstack:networking/subnet:Subnet")
    (pool,) = subnet.inputs["allocationPools"]
    start = ipaddress.ip_address(pool["start"])
    assert start == cidr.network_address + COMPONENT_RESERVED
    assert ipaddress.ip_address(pool["end"]) == cidr.broadcast_address - 1
    for port in plan.find(PORT):
        for fixed in port.inputs["fixedIps"]:
            if "ipAddress" in fixed:
                assert ipaddress.ip_address(fixed["ipAddress"]) < start, port.name


def test_moving_a_running_prod_behind_the_balancer_replaces_no_server(make_project: Any) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-prod.yaml").read_text())
    before = copy.deepcopy(document)
    before["config"]["ukdac:cluster"] = {"endpoint": "floating-ip"}
    base = plan_stack(make_project({"ukdac-prod": before}), "ukdac-prod")
    head = plan_stack(make_project({"ukdac-prod": document}), "ukdac-prod")
    diff = diff_plans(base, head)
    assert [r.name for r in diff.of_kind("replace") if r.type in (INSTANCE, PORT)] == []
    assert [r.name for r in diff.of_kind("remove")] == ["cluster-api-fip-association"]
    # The floating IP itself stays (DNS points at it); its association moves to the VIP.
    assert not [r for r in diff.resources if r.name == "cluster-api-fip" and r.kind != "keep"]
    assert any(r.type == LB and r.kind == "add" for r in diff.resources)
