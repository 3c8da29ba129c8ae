"""The `Deployment`: a validated stack config plus every value derived from it.

This is the only place physical names, tags, hostnames and Vault paths are computed. The
program hands them to components, and preflight and clean-up read them from here; nothing
else builds a name, so two stacks in one project never collide and tooling always finds
what the program made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.stack.model import NodeGroup, StackConfig
from infra.stack.profiles import POLICIES

# Security-group roles (the rule table's groups) and the control plane's node-group name.
SECURITY_GROUP_ROLES = ("control-plane", "workers", "ingress")
CONTROL_PLANE = "control-plane"
STACK_TAG_KEY = "ukdac-stack"
NODE_GROUP_METADATA_KEY = "ukdac-node-group"


@dataclass(frozen=True)
class Hostnames:
    """Every hostname of the environment, derived from `fqdn`."""

    rsp: str
    vault: str
    argocd_url: str  # phalanx serves Argo CD under the main hostname


@dataclass(frozen=True)
class BucketSpec:
    """A bucket with its physical (cloud-side) name and retention resolved."""

    name: str
    physical_name: str
    retain: bool


@dataclass(frozen=True)
class NodeName:
    """A node's Nova server name and the name of its pre-made Neutron port."""

    server: str
    port: str
    key: str  # the node's logical name under the cluster: its group, generation and index


@dataclass(frozen=True)
class Names:
    """Every name the stack gives a cloud object, and the tags that mark them as its own."""

    cluster: str  # kubeadm's clusterName, OCCM's and Cinder CSI's --cluster-name
    network: str
    subnet: str
    router: str
    keypair: str
    cloud_credential: str
    api_host: str  # the API's name inside the cluster, in every certificate
    load_balancer: str  # the Octavia load balancer over the control planes (when chosen)
    floating_ip_description: str
    security_groups: Mapping[str, str]  # role -> name
    server_groups: Mapping[str, str]  # node group (control-plane too) -> name
    nodes: Mapping[str, tuple[NodeName, ...]]  # node group (control-plane first) -> nodes
    magnum_template: str
    magnum_cluster: str
    tags: tuple[str, ...]  # Neutron tags
    metadata: Mapping[str, str]  # Nova metadata


@dataclass(frozen=True)
class Deployment:
    """A validated stack: its config plus every value derived from it, computed once."""

    stack: str
    config: StackConfig
    names: Names
    hostnames: Hostnames
    vault_url: str
    vault_path_prefix: str
    vault_allowed_cidrs: tuple[str, ...]  # who may reach vault.<fqdn>
    protect_stateful: bool
    buckets: tuple[BucketSpec, ...]


def _node(stack: str, group: str, index: int, generation: int = 1) -> NodeName:
    """A node's names; the first generation's carry none (the names nodes always had)."""
    key = f"{group}-{index}" if generation == 1 else f"{group}-g{generation}-{index}"
    server = f"{stack}-{key}"
    return NodeName(server=server, port=f"{server}-port", key=key)


def _group_nodes(stack: str, group: NodeGroup) -> tuple[NodeName, ...]:
    """During a rollout the retiring nodes of the previous wave, then the current wave."""
    retiring = tuple(
        _node(stack, group.name, i, group.generation - 1) for i in range(group.retiring)
    )
    return retiring + tuple(
        _node(stack, group.name, i, group.generation) for i in range(group.count)
    )


def derive_names(stack: str, config: StackConfig) -> Names:
    """Physical names are `<stack>-<role>`: unique per stack within a shared project."""
    cluster = config.cluster
    nodes = {
        CONTROL_PLANE: tuple(
            _node(stack, CONTROL_PLANE, i) for i in range(cluster.control_plane.count)
        )
    }
    nodes.update({g.name: _group_nodes(stack, g) for g in cluster.node_groups})
    return Names(
        cluster=stack,
        network=f"{stack}-net",
        subnet=f"{stack}-subnet",
        router=f"{stack}-router",
        keypair=f"{stack}-keypair",
        cloud_credential=f"{stack}-cloud-provider",
        api_host=f"kube-api.{stack}.internal",
        load_balancer=f"{stack}-api",
        floating_ip_description=f"{stack}: Kubernetes API and ingress",
        security_groups={role: f"{stack}-{role}" for role in SECURITY_GROUP_ROLES},
        server_groups={group: f"{stack}-{group}" for group in nodes},
        nodes=nodes,
        magnum_template=f"{stack}-k8s-{cluster.kubernetes_version}",
        magnum_cluster=stack,
        tags=(f"{STACK_TAG_KEY}={stack}",),
        metadata={STACK_TAG_KEY: stack},
    )


def derive(stack: str, config: StackConfig) -> Deployment:
    """Compute the derived values of a validated config."""
    fqdn = config.fqdn
    hostnames = Hostnames(rsp=fqdn, vault=f"vault.{fqdn}", argocd_url=f"https://{fqdn}/argo-cd")
    wanted = [
        (b.name, config.buckets.retain_by_default if b.retain is None else b.retain)
        for b in config.buckets.containers
    ]
    if config.backups.enabled:  # snapshots outlive whatever they restore: always retained
        wanted.append((config.backups.bucket, True))
    buckets = tuple(
        BucketSpec(name=name, physical_name=f"{stack}-{name}", retain=retain)
        for name, retain in wanted
    )
    return Deployment(
        stack=stack,
        config=config,
        names=derive_names(stack, config),
        hostnames=hostnames,
        vault_url=config.vault.url or f"https://{hostnames.vault}",
        vault_path_prefix=config.vault.path_prefix
        or f"secret/phalanx/{config.phalanx.environment}",
        vault_allowed_cidrs=tuple(
            str(c) for c in (config.vault.allowed_cidrs or config.cloud.admin_cidrs)
        ),
        protect_stateful=POLICIES[config.environment].protect_stateful,
        buckets=buckets,
    )
