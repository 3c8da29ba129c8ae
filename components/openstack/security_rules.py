"""Security-group rules of a kubeadm cluster, as data.

Three groups: `control-plane` and `workers` (every node is in exactly one), and `ingress`,
which goes only on the port that carries the floating IP (HTTP/HTTPS from anywhere).
Everything not listed is denied: the groups are created without Neutron's default rules.
Sources are other groups wherever possible, CIDRs only for administrators and the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["control-plane", "workers", "ingress"]
Source = Literal["admin", "cluster", "control-plane", "world", "load-balancer"]
Protocol = Literal["tcp", "udp", "icmp"]


@dataclass(frozen=True)
class Rule:
    """Ingress to `groups` on `protocol` ports `low`..`high` from `source`."""

    groups: tuple[Group, ...]
    protocol: Protocol
    low: int | None
    high: int | None
    source: Source
    description: str


CLUSTER_RULES: tuple[Rule, ...] = (
    Rule(("control-plane",), "tcp", 6443, 6443, "admin", "Kubernetes API from administrators"),
    Rule(("control-plane",), "tcp", 6443, 6443, "cluster", "Kubernetes API from the cluster"),
    Rule(("control-plane",), "tcp", 2379, 2380, "control-plane", "etcd between control planes"),
    Rule(("control-plane", "workers"), "tcp", 10250, 10250, "cluster", "kubelet API"),
    Rule(("control-plane", "workers"), "tcp", 30000, 32767, "cluster", "NodePort services"),
    Rule(("control-plane", "workers"), "tcp", 22, 22, "admin", "SSH from administrators"),
    Rule(("control-plane", "workers"), "icmp", None, None, "cluster", "ICMP within the cluster"),
    Rule(("ingress",), "tcp", 80, 80, "world", "HTTP to the ingress controller"),
    Rule(("ingress",), "tcp", 443, 443, "world", "HTTPS to the ingress controller"),
)


# Behind an Octavia load balancer the control planes see its amphorae, on the node subnet;
# who may reach 6443 from outside is then the listener's allowed CIDRs, not these rules.
LOAD_BALANCER_RULES: tuple[Rule, ...] = (
    Rule(("control-plane",), "tcp", 6443, 6443, "load-balancer", "Kubernetes API via the LB"),
    Rule(("control-plane",), "tcp", 80, 80, "load-balancer", "HTTP via the load balancer"),
    Rule(("control-plane",), "tcp", 443, 443, "load-balancer", "HTTPS via the load balancer"),
)


@dataclass(frozen=True)
class CniSpec:
    """What a CNI needs from the cloud network."""

    ports: tuple[tuple[Protocol, int, int, str], ...]
    needs_address_pairs: bool  # True when pod IPs appear unencapsulated on node ports


CNIS: dict[str, CniSpec] = {
    # Calico with VXLAN encapsulation (no BGP, no IP-in-IP) and Typha.
    "calico": CniSpec(
        (("udp", 4789, 4789, "Calico VXLAN"), ("tcp", 5473, 5473, "Calico Typha")),
        needs_address_pairs=False,
    ),
    # Cilium in tunnel mode (VXLAN) with its health checks.
    "cilium": CniSpec(
        (("udp", 8472, 8472, "Cilium VXLAN"), ("tcp", 4240, 4240, "Cilium health")),
        needs_address_pairs=False,
    ),
}


def cni_rules(cni: CniSpec) -> tuple[Rule, ...]:
    """The CNI's own ports, open within the cluster only."""
    return tuple(
        Rule(("control-plane", "workers"), protocol, low, high, "cluster", description)
        for protocol, low, high, description in cni.ports
    )
