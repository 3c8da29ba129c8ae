"""The security-group rules every kubeadm stack gets, written out and compared exactly."""

from __future__ import annotations

import pytest

from infra.plan.ids import fake_id
from tests.support.stacks import STACKS, config, planned

RULE = "openstack:networking/secGroupRule:SecGroupRule"
GROUP = "openstack:networking/secGroup:SecGroup"
CP, WK, IN = "control-plane", "workers", "ingress"
NODES = (CP, WK)

Row = tuple[str, str, str, str | None, int | None, int | None, str]


def within_cluster(
    groups: tuple[str, ...], protocol: str, low: int | None, high: int | None
) -> set[Row]:
    """A rule open to every node (both node groups) on each of `groups`."""
    return {
        (group, "ingress", "IPv4", protocol, low, high, source)
        for group in groups
        for source in NODES
    }


def expected(admin_cidrs: list[str], cni: str, balancer_subnet: str | None = None) -> set[Row]:
    admin = {
        (group, "ingress", "IPv6" if ":" in cidr else "IPv4", "tcp", port, port, cidr)
        for cidr in admin_cidrs
        for group, port in ((CP, 6443), (CP, 22), (WK, 22))
    }
    cni_ports = {
        "calico": [("udp", 4789), ("tcp", 5473)],
        "cilium": [("udp", 8472), ("tcp", 4240)],
    }[cni]
    rows = {
        (group, "egress", ethertype, None, None, None, "any")
        for group in NODES
        for ethertype in ("IPv4", "IPv6")
    }
    rows |= admin
    rows |= {(CP, "ingress", "IPv4", "tcp", 6443, 6443, source) for source in NODES}
    rows |= {(CP, "ingress", "IPv4", "tcp", 2379, 2380, CP)}
    rows |= within_cluster(NODES, "tcp", 10250, 10250)
    rows |= within_cluster(NODES, "tcp", 30000, 32767)
    rows |= within_cluster(NODES, "icmp", None, None)
    for protocol, port in cni_ports:
        rows |= within_cluster(NODES, protocol, port, port)
    rows |= {
        (IN, "ingress", ethertype, "tcp", port, port, cidr)
        for port in (80, 443)
        for ethertype, cidr in (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0"))
    }
    if balancer_subnet is not None:  # the amphorae reach the control planes' API and ingress
        rows |= {
            (CP, "ingress", "IPv4", "tcp", port, port, balancer_subnet) for port in (80, 443, 6443)
        }
    return rows


@pytest.mark.parametrize("variant", ["kubeadm", "kubeadm-cilium"])
@pytest.mark.parametrize("stack", STACKS)
def test_security_group_rules_are_exactly_the_table(stack: str, variant: str) -> None:
    plan = planned(stack, variant)
    d = config(stack)
    names = {fake_id(g.urn): g.inputs["name"] for g in plan.find(GROUP)}
    role = {name: r for r, name in d.names.security_groups.items()}
    rows = []
    for rule in plan.find(RULE):
        i = rule.inputs
        if "remoteIpPrefix" in i:
            source = i["remoteIpPrefix"]
        elif "remoteGroupId" in i:
            source = role[names[i["remoteGroupId"]]]
        else:
            source = "any"
        rows.append(
            (
                role[names[i["securityGroupId"]]],
                i["direction"],
                i["ethertype"],
                i.get("protocol"),
                i.get("portRangeMin"),
                i.get("portRangeMax"),
                source,
            )
        )
    assert len(rows) == len(set(rows)), "a rule is declared twice"
    cni = "cilium" if variant.endswith("cilium") else "calico"
    balanced = d.config.cluster.endpoint == "loadbalancer"
    subnet = str(d.config.network.node_cidr) if balanced else None
    want = expected([str(c) for c in d.config.cloud.admin_cidrs], cni, subnet)
    assert set(rows) - want == set(), "rules beyond the table"
    assert want - set(rows) == set(), "rules of the table missing"
