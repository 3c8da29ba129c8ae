"""Cross-field rules of a stack configuration, each returning every problem it finds.

A rule sees only the sections that passed field validation (`Sections`), so a stack file
with a bad `tls` section still gets its `cluster` rules checked: the operator sees every
problem in one run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations

from infra.errors import Problem
from infra.stack.model import (
    BucketsConfig,
    CloudConfig,
    ClusterConfig,
    Environment,
    NetworkConfig,
    PhalanxConfig,
    QservConfig,
    SandboxConfig,
    TlsConfig,
    VaultConfig,
)
from infra.stack.profiles import POLICIES


@dataclass(frozen=True)
class Sections:
    """The sections that validated; None where a section had field errors."""

    environment: Environment
    cloud: CloudConfig | None
    network: NetworkConfig | None
    cluster: ClusterConfig | None
    tls: TlsConfig | None
    vault: VaultConfig | None
    phalanx: PhalanxConfig | None
    qserv: QservConfig | None
    buckets: BucketsConfig | None
    sandbox: SandboxConfig | None
    sandbox_set: bool


def _allowed(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


def issuer_allowed(s: Sections) -> Iterator[Problem]:
    policy = POLICIES[s.environment]
    if s.tls and s.tls.issuer not in policy.issuers:
        yield Problem(
            ("tls", "issuer"),
            f"not allowed in {s.environment}; use one of: {_allowed(policy.issuers)}",
            s.tls.issuer,
        )


def acme_settings(s: Sections) -> Iterator[Problem]:
    if not s.tls:
        return
    if s.tls.issuer.startswith("letsencrypt") and not s.tls.acme_email:
        yield Problem(("tls", "acmeEmail"), f"required with the {s.tls.issuer} issuer")
    if s.tls.solver == "dns01" and s.tls.dns01 is None:
        yield Problem(("tls", "dns01"), "required when solver is dns01")
    if s.tls.solver != "dns01" and s.tls.dns01 is not None:
        yield Problem(
            ("tls", "dns01"), f"set, but solver is {s.tls.solver}; remove it or use dns01"
        )


def vault_mode_allowed(s: Sections) -> Iterator[Problem]:
    policy = POLICIES[s.environment]
    if s.vault and s.vault.mode not in policy.vault_modes:
        yield Problem(
            ("vault", "mode"),
            f"not allowed in {s.environment}; use one of: {_allowed(policy.vault_modes)}",
            s.vault.mode,
        )


def auto_sync_allowed(s: Sections) -> Iterator[Problem]:
    if s.phalanx and s.phalanx.auto_sync and not POLICIES[s.environment].auto_sync_allowed:
        yield Problem(
            ("phalanx", "autoSync"),
            f"automatic sync is not allowed in {s.environment}: changes are synced by hand",
            True,
        )


def cidrs_disjoint(s: Sections) -> Iterator[Problem]:
    if not s.network:
        return
    ranges = {
        "nodeCidr": s.network.node_cidr,
        "podCidr": s.network.pod_cidr,
        "serviceCidr": s.network.service_cidr,
    }
    for (name_a, net_a), (name_b, net_b) in combinations(ranges.items(), 2):
        if net_a.overlaps(net_b):
            yield Problem(("network", name_b), f"overlaps {name_a} {net_a}", str(net_b))


def admin_cidrs_not_world(s: Sections) -> Iterator[Problem]:
    if not s.cloud:
        return
    for index, cidr in enumerate(s.cloud.admin_cidrs):
        if cidr.prefixlen == 0:
            yield Problem(
                ("cloud", "adminCidrs", index),
                "would open SSH and the Kubernetes API to the whole Internet; "
                "list the administrators' networks",
                str(cidr),
            )


def node_groups_unique(s: Sections) -> Iterator[Problem]:
    if not s.cluster:
        return
    counts = Counter(group.name for group in s.cluster.node_groups)
    seen: set[str] = set()
    for index, group in enumerate(s.cluster.node_groups):
        if counts[group.name] > 1 and group.name in seen:
            yield Problem(
                ("cluster", "nodeGroups", index, "name"),
                "duplicate node-group name; names must be unique",
                group.name,
            )
        seen.add(group.name)


def schedulable_node(s: Sections) -> Iterator[Problem]:
    if not s.cluster:
        return
    blocking = {"NoSchedule", "NoExecute"}
    if not any(
        group.count > 0 and not any(t.effect in blocking for t in group.taints)
        for group in s.cluster.node_groups
    ):
        yield Problem(
            ("cluster", "nodeGroups"),
            "no schedulable node: at least one node group needs count >= 1 and no "
            "NoSchedule/NoExecute taint",
        )


# kubelet may set labels under these Kubernetes-owned prefixes only.
_KUBELET_LABEL_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")


def node_labels_settable(s: Sections) -> Iterator[Problem]:
    if not s.cluster:
        return
    for index, group in enumerate(s.cluster.node_groups):
        for key in group.labels:
            reserved = any(d in key.split("/")[0] for d in ("kubernetes.io", "k8s.io"))
            if "/" in key and reserved and not key.startswith(_KUBELET_LABEL_PREFIXES):
                yield Problem(
                    ("cluster", "nodeGroups", index, "labels", key),
                    "kubelet may not set labels under kubernetes.io or k8s.io (except "
                    f"{', '.join(_KUBELET_LABEL_PREFIXES)}); use your own prefix",
                    group.labels[key],
                )


def taints_need_kubeadm(s: Sections) -> Iterator[Problem]:
    """Magnum has no way to taint a node group's nodes: a taint there would silently vanish."""
    if not s.cluster or s.cluster.backend != "magnum":
        return
    for index, group in enumerate(s.cluster.node_groups):
        if group.taints:
            yield Problem(
                ("cluster", "nodeGroups", index, "taints"),
                "Magnum cannot taint a node group's nodes; remove the taints or use "
                "cluster.backend: kubeadm",
            )


def qserv_label_present(s: Sections) -> Iterator[Problem]:
    if not (s.qserv and s.qserv.enabled and s.cluster):
        return
    key, _, value = s.qserv.ingest_node_label.partition("=")
    carriers = [g for g in s.cluster.node_groups if g.labels.get(key) == value and g.count > 0]
    if not carriers:
        yield Problem(
            ("qserv", "ingestNodeLabel"),
            "no node group with count >= 1 carries this label; add it to a node group's "
            "labels or change the label",
            s.qserv.ingest_node_label,
        )


def bucket_names_unique(s: Sections) -> Iterator[Problem]:
    if not s.buckets:
        return
    seen: set[str] = set()
    for index, bucket in enumerate(s.buckets.containers):
        if bucket.name in seen:
            yield Problem(
                ("buckets", "containers", index, "name"), "duplicate bucket name", bucket.name
            )
        seen.add(bucket.name)


def sandbox_section(s: Sections) -> Iterator[Problem]:
    if s.environment == "sandbox" and not s.sandbox_set:
        yield Problem(("sandbox",), "required for a sandbox: its owner and expiry date")
    if s.environment != "sandbox" and s.sandbox_set:
        yield Problem(("sandbox",), f"only a sandbox has an owner and expiry, not {s.environment}")


RULES: tuple[Callable[[Sections], Iterator[Problem]], ...] = (
    issuer_allowed,
    acme_settings,
    vault_mode_allowed,
    auto_sync_allowed,
    cidrs_disjoint,
    admin_cidrs_not_world,
    node_groups_unique,
    schedulable_node,
    node_labels_settable,
    taints_need_kubeadm,
    qserv_label_present,
    bucket_names_unique,
    sandbox_section,
)


def check(sections: Sections) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(sections)]
