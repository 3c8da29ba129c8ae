"""The OpenStack layer of a stack: network, security groups, cluster, buckets, credentials.

Translates the validated config into component arguments; the components know nothing of
UKDAC, its names or its environments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_openstack as openstack

from components.kubeadm import cloud_init
from components.kubeadm.documents import Taint
from components.openstack.cloud_credentials import (
    CLOUD_PROVIDER_ACCESS_RULES,
    CloudCredentials,
    CloudCredentialsArgs,
)
from components.openstack.cluster import Cluster
from components.openstack.kubeadm_cluster import (
    RESERVED_HOSTS,
    ControlPlaneSpec,
    KubeadmCluster,
    KubeadmClusterArgs,
    NodeGroupSpec,
    NodeNames,
)
from components.openstack.magnum_cluster import (
    ROLE_LABEL,
    MagnumCluster,
    MagnumClusterArgs,
    MagnumNodeGroupSpec,
    node_group_roles,
)
from components.openstack.network import Network, NetworkArgs
from components.openstack.object_store import BucketSpec, ObjectStore, ObjectStoreArgs
from components.openstack.security_groups import SecurityGroups, SecurityGroupsArgs
from components.openstack.security_rules import (
    CLUSTER_RULES,
    CNIS,
    LOAD_BALANCER_RULES,
    cni_rules,
)
from infra.program.mirror import node_url
from infra.stack.deployment import CONTROL_PLANE, NODE_GROUP_METADATA_KEY, Deployment
from infra.versions import SIGNING_KEY_FINGERPRINTS, download_sha256, pinned

BACKUP_CREDENTIAL = "backup"


@dataclass
class CloudLayer:
    """What the platform layer needs from the cloud."""

    network: Network
    cluster: Cluster
    object_store: ObjectStore
    credentials: CloudCredentials


def _identity_url(catalogs: list[Any]) -> str:
    for service in catalogs:
        if service["type"] == "identity":
            for endpoint in service["endpoints"]:
                if endpoint["interface"] == "public":
                    return str(endpoint["url"])
    raise ValueError("the service catalog has no public identity endpoint")


def _catalog(scope: Any) -> list[Any]:
    return [
        {
            "type": s.type,
            "endpoints": [{"interface": e.interface, "url": e.url} for e in s.endpoints],
        }
        for s in scope.service_catalogs
    ]


def _cni(d: Deployment) -> cloud_init.CniInstall:
    cfg = d.config

    def source(url: str) -> str:
        return node_url(cfg.mirror, url)

    if cfg.cluster.cni == "calico":
        return cloud_init.calico(
            pinned("calico"), str(cfg.network.pod_cidr), download_sha256, source
        )
    return cloud_init.cilium(pinned("cilium"), pinned("cilium-cli"), download_sha256, source)


# Pod Security admission: `baseline` is enforced in every namespace but these, which run
# privileged or host-network pods by design; `restricted` is audited and warned everywhere.
POD_SECURITY_ENFORCE = "baseline"
POD_SECURITY_EXEMPT: dict[str, str] = {
    "kube-system": "kube-proxy, OCCM, the Cinder CSI node plugin, Cilium and the etcd "
    "snapshots: privileged or host paths",
    "calico-system": "calico-node: privileged, host network",
    "tigera-operator": "the Calico operator: host network",
    "ingress-nginx": "the ingress controller: host ports 80 and 443 on the control planes",
}


def _node_names(d: Deployment, group: str) -> tuple[NodeNames, ...]:
    return tuple(NodeNames(n.server, n.port, n.key) for n in d.names.nodes[group])


def _kubeadm(d: Deployment, network: Network, opts: pulumi.ResourceOptions) -> KubeadmCluster:
    cfg = d.config
    cni = CNIS[cfg.cluster.cni]
    names = d.names
    balanced = cfg.cluster.endpoint == "loadbalancer"
    admins = tuple(str(c) for c in cfg.cloud.admin_cidrs)
    groups = SecurityGroups(
        "security-groups",
        SecurityGroupsArgs(
            names=names.security_groups,
            owner=d.stack,
            admin_cidrs=admins,
            rules=CLUSTER_RULES + cni_rules(cni) + (LOAD_BALANCER_RULES if balanced else ()),
            tags=names.tags,
            load_balancer_cidrs=(str(cfg.network.node_cidr),) if balanced else (),
        ),
        opts=opts,
    )
    return KubeadmCluster(
        "cluster",
        KubeadmClusterArgs(
            cluster_name=names.cluster,
            keypair_name=names.keypair,
            api_host=names.api_host,
            floating_ip_description=names.floating_ip_description,
            kubernetes_version=cfg.cluster.kubernetes_version,
            image_name=cfg.cloud.image,
            public_key=cfg.cloud.keypair_public_key,
            network_id=network.network_id,
            subnet_id=network.subnet_id,
            node_cidr=str(cfg.network.node_cidr),
            pod_cidr=str(cfg.network.pod_cidr),
            service_cidr=str(cfg.network.service_cidr),
            floating_ip_pool=cfg.cloud.external_network,
            control_plane=ControlPlaneSpec(
                flavor=cfg.cluster.control_plane.flavor,
                server_group=names.server_groups[CONTROL_PLANE],
                nodes=_node_names(d, CONTROL_PLANE),
            ),
            node_groups=tuple(
                NodeGroupSpec(
                    name=g.name,
                    flavor=g.flavor,
                    server_group=names.server_groups[g.name],
                    nodes=_node_names(d, g.name),
                    labels=tuple(sorted(g.labels.items())),
                    taints=tuple(Taint(t.key, t.value, t.effect) for t in g.taints),
                )
                for g in cfg.cluster.node_groups
            ),
            security_group_ids={str(k): v for k, v in groups.ids.items()},
            cni=_cni(d),
            apt_key_fingerprint=SIGNING_KEY_FINGERPRINTS["pkgs.k8s.io"].version,
            api_sans=(d.hostnames.rsp,),
            boot_volume_size=cfg.cluster.boot_volume_size,
            allowed_address_cidrs=(str(cfg.network.pod_cidr),) if cni.needs_address_pairs else (),
            metadata=names.metadata,
            group_metadata_key=NODE_GROUP_METADATA_KEY,
            pod_security=(POD_SECURITY_ENFORCE, tuple(POD_SECURITY_EXEMPT)),
            protect=d.protect_stateful,
            load_balancer=names.load_balancer if balanced else None,
            api_allowed_cidrs=admins,
            routed=(network.routed,),
        ),
        opts=opts,
    )


def _magnum(
    d: Deployment, network: Network, external_id: pulumi.Output[str], opts: pulumi.ResourceOptions
) -> MagnumCluster:
    cfg = d.config
    roles = node_group_roles([g.name for g in cfg.cluster.node_groups])
    for group in cfg.cluster.node_groups:
        if group.labels:
            pulumi.log.warn(
                f"node group {group.name}: Magnum does not put its labels on nodes; "
                f"ukdac selects these nodes by {ROLE_LABEL}={roles[group.name]} instead"
            )
    if not cfg.cluster.magnum.master_lb_enabled:
        pulumi.log.warn(
            "Magnum opens the Kubernetes API of its masters to every address and gives every "
            "node a floating IP; only a master load balancer applies cloud.adminCidrs and "
            "keeps nodes off the Internet (set cluster.magnum.masterLbEnabled)"
        )
    return MagnumCluster(
        "cluster",
        MagnumClusterArgs(
            cluster_name=d.names.magnum_cluster,
            keypair_name=d.names.keypair,
            template_name=d.names.magnum_template,
            kubernetes_version=cfg.cluster.kubernetes_version,
            image_name=cfg.cloud.image,
            public_key=cfg.cloud.keypair_public_key,
            external_network_id=external_id,
            network_id=network.network_id,
            subnet_id=network.subnet_id,
            dns_nameserver=str(cfg.cloud.dns_nameservers[0]),
            control_plane_flavor=cfg.cluster.control_plane.flavor,
            control_plane_count=cfg.cluster.control_plane.count,
            node_groups=tuple(
                MagnumNodeGroupSpec(g.name, g.flavor, g.count, tuple(sorted(g.labels.items())))
                for g in cfg.cluster.node_groups
            ),
            network_driver=cfg.cluster.cni,
            boot_volume_size=cfg.cluster.boot_volume_size,
            master_lb_enabled=cfg.cluster.magnum.master_lb_enabled,
            api_allowed_cidrs=tuple(str(c) for c in cfg.cloud.admin_cidrs),
            create_timeout_minutes=cfg.cluster.magnum.create_timeout_minutes,
            routed=(network.routed,),
        ),
        opts=opts,
    )


def build_cloud_layer(d: Deployment) -> CloudLayer:
    """Declare the OpenStack resources of `d`, in dependency order."""
    cfg = d.config
    provider = openstack.Provider("openstack", cloud=cfg.cloud.name, region=cfg.cloud.region)
    opts = pulumi.ResourceOptions(providers=[provider])
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    external = openstack.networking.get_network_output(
        name=cfg.cloud.external_network, external=True, opts=invoke
    )
    scope = openstack.identity.get_auth_scope_output(name="ukdac", opts=invoke)
    network = Network(
        "network",
        NetworkArgs(
            network_name=d.names.network,
            subnet_name=d.names.subnet,
            router_name=d.names.router,
            cidr=str(cfg.network.node_cidr),
            dns_nameservers=tuple(str(ip) for ip in cfg.cloud.dns_nameservers),
            external_network_id=external.id,
            tags=d.names.tags,
            reserved_hosts=RESERVED_HOSTS,
        ),
        opts=opts,
    )
    cluster: Cluster
    if cfg.cluster.backend == "kubeadm":
        cluster = _kubeadm(d, network, opts)
    else:
        cluster = _magnum(d, network, external.id, opts)
    store = ObjectStore(
        "object-store",
        ObjectStoreArgs(
            buckets=tuple(
                BucketSpec(b.physical_name, retain=b.retain, protect=d.protect_stateful)
                for b in d.buckets
            ),
            s3_endpoint=cfg.buckets.s3_endpoint,
            # The snapshot uploaders' own keys, revocable without touching the applications'.
            extra_credentials=(BACKUP_CREDENTIAL,) if cfg.backups.enabled else (),
        ),
        opts=opts,
    )
    credentials = CloudCredentials(
        "cloud-credentials",
        CloudCredentialsArgs(
            name=d.names.cloud_credential,
            region=cfg.cloud.region,
            auth_url=scope.apply(_catalog).apply(_identity_url),
            floating_network_id=external.id,
            subnet_id=network.subnet_id,
            roles=tuple(cfg.cloud.application_credential_roles),
            access_rules=(
                CLOUD_PROVIDER_ACCESS_RULES if cfg.cloud.application_credential_access_rules else ()
            ),
        ),
        opts=opts,
    )
    return CloudLayer(network, cluster, store, credentials)
