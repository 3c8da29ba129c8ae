"""Cross-field rules of a stack configuration, each returning every problem it finds.

A rule sees only the sections that passed field validation (`Sections`), so a stack file
with a bad `tls` section still gets its `cluster` rules checked: the operator sees every
problem in one run.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from infra.errors import Problem
from infra.stack.model import (
    BackupsConfig,
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
from infra.stack.profiles import POLICIES, SANDBOX_POOL

if TYPE_CHECKING:
    from infra.stack.deployment import Deployment


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
    backups: BackupsConfig | None
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


# Administrators' networks cover at most a /8 of IPv4 and a /32 of IPv6 in all. Judged on
# the total, so two halves of the Internet are the Internet.
ADMIN_LIMITS = {4: 8, 6: 32}


def admin_cidrs_not_world(s: Sections) -> Iterator[Problem]:
    if not s.cloud:
        return
    for version, widest in ADMIN_LIMITS.items():
        networks = [c for c in s.cloud.admin_cidrs if c.version == version]
        collapsed = ipaddress.collapse_addresses(networks)  # type: ignore[type-var]
        total = sum(n.num_addresses for n in collapsed)
        if total > 2 ** ((32 if version == 4 else 128) - widest):
            yield Problem(
                ("cloud", "adminCidrs"),
                f"together cover more IPv{version} addresses than a /{widest}: that would "
                "open SSH and the Kubernetes API to much of the Internet; list the "
                "administrators' networks",
                [str(c) for c in networks],
            )


# Ranges no cluster network may use: the metadata service and link-local, loopback,
# multicast, "this network" and the reserved space.
_RESERVED_CHECKS = (
    ("is_link_local", "link-local (the metadata service lives there)"),
    ("is_loopback", "loopback"),
    ("is_multicast", "multicast"),
    ("is_unspecified", "unspecified"),
    ("is_reserved", "reserved"),
)
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
# Hosts kept out of DHCP's pool (components/openstack/kubeadm_cluster.RESERVED_HOSTS).
RESERVED_HOSTS = 20
MAX_NODES = 250
SERVICE_WIDEST = 12  # kubeadm refuses a service CIDR wider than /12
SERVICE_NARROWEST = 28
POD_BLOCK = 26  # Calico's per-node block: the pod CIDR must hold one per node


def cidrs_usable(s: Sections) -> Iterator[Problem]:
    if not s.network:
        return
    ranges = {
        "nodeCidr": s.network.node_cidr,
        "podCidr": s.network.pod_cidr,
        "serviceCidr": s.network.service_cidr,
    }
    for name, network in ranges.items():
        reasons = [what for check, what in _RESERVED_CHECKS if getattr(network, check)]
        if network.overlaps(_THIS_NETWORK):
            reasons.append('"this network" (0.0.0.0/8)')
        if reasons:
            yield Problem(
                ("network", name),
                f"is {reasons[0]} address space; use a private range",
                str(network),
            )
    if s.network.service_cidr.prefixlen > SERVICE_NARROWEST:
        yield Problem(
            ("network", "serviceCidr"),
            f"narrower than /{SERVICE_NARROWEST}: Kubernetes gives the API its .1 and DNS its .10",
            str(s.network.service_cidr),
        )
    if s.network.service_cidr.prefixlen < SERVICE_WIDEST:
        yield Problem(
            ("network", "serviceCidr"),
            f"wider than /{SERVICE_WIDEST}, which kubeadm refuses",
            str(s.network.service_cidr),
        )


def nameservers_reachable(s: Sections) -> Iterator[Problem]:
    """A resolver inside the cluster's own ranges is a node, a pod or a service address,
    never the site's DNS: the nodes could not resolve anything before the cluster exists."""
    if not (s.cloud and s.network):
        return
    ranges = {
        "network.nodeCidr": s.network.node_cidr,
        "network.podCidr": s.network.pod_cidr,
        "network.serviceCidr": s.network.service_cidr,
    }
    for index, server in enumerate(s.cloud.dns_nameservers):
        for name, network in ranges.items():
            if server in network:
                yield Problem(
                    ("cloud", "dnsNameservers", index),
                    f"lies inside {name} {network}: a resolver there is part of the cluster, "
                    "not the site's DNS; give the site's resolvers",
                    str(server),
                )


def sandbox_in_pool(s: Sections) -> Iterator[Problem]:
    """`ukdac sandbox create` allocates sandboxes' /24s from one pool, apart from the other
    environments' ranges; a sandbox outside it can collide with dev's."""
    if s.environment != "sandbox" or not s.network:
        return
    if not s.network.node_cidr.subnet_of(SANDBOX_POOL):
        yield Problem(
            ("network", "nodeCidr"),
            f"lies outside the sandbox pool {SANDBOX_POOL} that `ukdac sandbox create` "
            "allocates from (other environments use other ranges); take a free /24 of it",
            str(s.network.node_cidr),
        )


def nodes_fit(s: Sections) -> Iterator[Problem]:
    if not s.cluster:
        return
    control = s.cluster.control_plane.count
    nodes = control + sum(group.count + group.retiring for group in s.cluster.node_groups)
    if nodes > MAX_NODES:
        yield Problem(
            ("cluster", "nodeGroups"),
            f"{nodes} nodes in all; one stack holds at most {MAX_NODES} (split the environment)",
        )
    if not s.network:
        return
    hosts = s.network.node_cidr.num_addresses - 2
    needed = RESERVED_HOSTS + (nodes - control) + 5
    if hosts < needed:
        yield Problem(
            ("network", "nodeCidr"),
            f"has {hosts} host addresses; {nodes} nodes need {needed} (.1 to "
            f".{RESERVED_HOSTS - 1} reserved for the router, VIP and control planes, then "
            "the workers and DHCP)",
            str(s.network.node_cidr),
        )
    prefix = s.network.pod_cidr.prefixlen
    blocks = 2 ** (POD_BLOCK - prefix) if prefix <= POD_BLOCK else 0
    if blocks < nodes:
        yield Problem(
            ("network", "podCidr"),
            f"holds {blocks} per-node /{POD_BLOCK} blocks; {nodes} nodes need one each",
            str(s.network.pod_cidr),
        )


# Names the program gives groups of its own.
RESERVED_GROUP_NAMES = ("control-plane",)


def node_group_names_free(s: Sections) -> Iterator[Problem]:
    if not s.cluster:
        return
    for index, group in enumerate(s.cluster.node_groups):
        if group.name in RESERVED_GROUP_NAMES:
            yield Problem(
                ("cluster", "nodeGroups", index, "name"),
                "reserved for the control planes; choose another name",
                group.name,
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


def endpoint_needs_kubeadm(s: Sections) -> Iterator[Problem]:
    """Magnum puts its own load balancer in front of its masters (magnum.masterLbEnabled)."""
    if s.cluster and s.cluster.backend == "magnum" and s.cluster.endpoint == "loadbalancer":
        yield Problem(
            ("cluster", "endpoint"),
            "is for kubeadm; Magnum's masters get their load balancer from "
            "cluster.magnum.masterLbEnabled",
        )


def rollouts_well_formed(s: Sections) -> Iterator[Problem]:
    """Retiring nodes belong to a previous generation; Magnum rolls its own node groups."""
    if not s.cluster:
        return
    for index, group in enumerate(s.cluster.node_groups):
        where = ("cluster", "nodeGroups", index)
        if group.retiring and group.generation == 1:
            yield Problem(
                (*where, "retiring"),
                "the first generation has no previous one to retire; raise `generation` "
                "to start a rollout",
            )
        if s.cluster.backend == "magnum" and (group.generation > 1 or group.retiring):
            yield Problem(
                (*where, "generation"),
                "Magnum replaces a node group's nodes itself (`openstack coe nodegroup "
                "upgrade`); generations and retiring nodes are for cluster.backend: kubeadm",
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


def vault_never_public_in_dev_mode(s: Sections) -> Iterator[Problem]:
    """A dev-mode Vault has the root token `root`: it stays behind the admin CIDRs."""
    if not (s.vault and s.vault.allowed_cidrs is not None):
        return
    if s.vault.mode == "dev" or s.environment == "sandbox":
        yield Problem(
            ("vault", "allowedCidrs"),
            "a sandbox or dev-mode Vault (root token 'root') stays behind the admin CIDRs; "
            "remove this setting",
        )


def tap_bucket_exists(s: Sections) -> Iterator[Problem]:
    if s.buckets and s.buckets.tap_bucket is not None:
        names = [b.name for b in s.buckets.containers]
        if s.buckets.tap_bucket not in names:
            yield Problem(
                ("buckets", "tapBucket"),
                f"names no bucket of buckets.containers ({', '.join(names) or 'none'})",
                s.buckets.tap_bucket,
            )


# Roles the cluster's own application credential may carry: what OCCM and Cinder CSI need.
CREDENTIAL_ROLES = ("member", "load-balancer_member", "reader")


def credential_roles_allowed(s: Sections) -> Iterator[Problem]:
    if not s.cloud:
        return
    for index, role in enumerate(s.cloud.application_credential_roles):
        if role not in CREDENTIAL_ROLES:
            yield Problem(
                ("cloud", "applicationCredentialRoles", index),
                f"not a role the cloud controller needs; allowed: {', '.join(CREDENTIAL_ROLES)}",
                role,
            )


def one_identity_provider(s: Sections) -> Iterator[Problem]:
    """Gafaelfawr logs users in through exactly one provider."""
    identity = s.phalanx.identity if s.phalanx else None
    if identity is not None and (identity.github is None) == (identity.cilogon is None):
        yield Problem(
            ("phalanx", "identity"),
            "set exactly one identity provider: `github` or `cilogon`",
        )


def wildcards_need_dns01(s: Sections) -> Iterator[Problem]:
    """nublado's `*.nb.<fqdn>` certificate can only be issued through DNS-01."""
    if not (s.phalanx and s.phalanx.nublado_subdomains and s.tls):
        return
    acme = s.tls.issuer.startswith("letsencrypt")
    if acme and (s.tls.solver != "dns01" or s.tls.dns01 is None):
        yield Problem(
            ("phalanx", "nubladoSubdomains"),
            "nublado's subdomains need a wildcard certificate (*.nb.<fqdn>), which only "
            "an ACME DNS-01 solver can obtain: set `tls.solver: dns01` and `tls.dns01`, "
            "or turn nubladoSubdomains off",
        )


def backups_bucket_own(s: Sections) -> Iterator[Problem]:
    """The backups bucket is made by ukdac for snapshots alone, never shared with an app."""
    if not (s.backups and s.backups.enabled and s.buckets):
        return
    if any(b.name == s.backups.bucket for b in s.buckets.containers):
        yield Problem(
            ("backups", "bucket"),
            "names a bucket in buckets.containers; snapshots get a bucket of their own, which "
            "ukdac makes: choose another name",
            s.backups.bucket,
        )


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
    cidrs_usable,
    nodes_fit,
    nameservers_reachable,
    sandbox_in_pool,
    node_groups_unique,
    node_group_names_free,
    schedulable_node,
    node_labels_settable,
    taints_need_kubeadm,
    rollouts_well_formed,
    endpoint_needs_kubeadm,
    qserv_label_present,
    bucket_names_unique,
    vault_never_public_in_dev_mode,
    tap_bucket_exists,
    credential_roles_allowed,
    one_identity_provider,
    wildcards_need_dns01,
    backups_bucket_own,
    sandbox_section,
)


def check(sections: Sections) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(sections)]


def shared_projects(deployments: dict[str, Deployment]) -> list[str]:
    """Environments (sandboxes aside, which share a project by design) must not share a
    cloud entry: a project's EC2 credentials reach every bucket in it."""
    by_cloud: dict[str, list[str]] = {}
    for stack, d in sorted(deployments.items()):
        if d.config.environment != "sandbox":
            by_cloud.setdefault(d.config.cloud.name, []).append(stack)
    return [
        f"{', '.join(stacks)} use the same cloud entry {cloud!r}: give each environment a "
        "project of its own (its EC2 credentials reach every bucket in it)"
        for cloud, stacks in by_cloud.items()
        if len(stacks) > 1
    ]
