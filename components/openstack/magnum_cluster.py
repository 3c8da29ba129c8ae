"""A Kubernetes cluster from OpenStack Magnum, with the same outputs as KubeadmCluster.

Magnum's own ingress controller and Cinder CSI are turned off: the platform layer installs
and configures both, the same way on either backend. Magnum returns its kubeconfig in plain
text; it is marked secret here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_openstack as openstack

# Magnum cannot put chosen Kubernetes labels on nodes: it labels each node with its node
# group's role, and the cluster's own worker group (the first node group here) has this one.
ROLE_LABEL = "magnum.openstack.org/role"
DEFAULT_ROLE = "worker"


def node_group_roles(group_names: Sequence[str]) -> dict[str, str]:
    """The role each node group's nodes carry under ROLE_LABEL, by group name."""
    first, *others = group_names
    return {first: DEFAULT_ROLE, **{name: name for name in others}}


@dataclass(frozen=True)
class MagnumNodeGroupSpec:
    """A Magnum node group; `labels` are what the caller wants, which Magnum cannot apply."""

    name: str
    flavor: str
    count: int
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MagnumClusterArgs:
    """The cluster's specification; every physical name is the caller's choice."""

    cluster_name: str
    keypair_name: str
    template_name: str
    kubernetes_version: str
    image_name: str
    public_key: str
    external_network_id: pulumi.Input[str]
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    dns_nameserver: str
    control_plane_flavor: str
    control_plane_count: int
    node_groups: tuple[MagnumNodeGroupSpec, ...]
    network_driver: str = "calico"
    boot_volume_size: int | None = None
    master_lb_enabled: bool = False
    # Who may reach the API: applied by the masters' load balancer (Magnum's
    # `master_lb_allowed_cidrs`); without one Magnum opens the API to everyone.
    api_allowed_cidrs: tuple[str, ...] = ()
    create_timeout_minutes: int = 60
    extra_labels: Mapping[str, str] | None = None
    # The subnet's router interface: Magnum gives nodes floating IPs on the fixed subnet,
    # which Neutron refuses before the subnet reaches the external network.
    routed: tuple[pulumi.Resource, ...] = ()


def template_labels(args: MagnumClusterArgs) -> dict[str, str]:
    """Magnum labels: version, external cloud provider, and Magnum's own add-ons off."""
    labels = {
        "kube_tag": f"v{args.kubernetes_version}",
        "cloud_provider_enabled": "true",
        "ingress_controller": "",
        "cinder_csi_enabled": "false",
        "monitoring_enabled": "false",
        "auto_healing_enabled": "false",
        "master_lb_floating_ip_enabled": str(args.master_lb_enabled).lower(),
    }
    if args.boot_volume_size:
        labels["boot_volume_size"] = str(args.boot_volume_size)
    if args.master_lb_enabled and args.api_allowed_cidrs:
        labels["master_lb_allowed_cidrs"] = ",".join(args.api_allowed_cidrs)
    labels.update(args.extra_labels or {})
    return labels


def _host(url: str | None) -> str:
    """`https://203.0.113.5:6443` -> `203.0.113.5`."""
    return (url or "").split("://", 1)[-1].rsplit(":", 1)[0]


def _raw_config(kubeconfig: Mapping[str, Any]) -> str:
    return str(kubeconfig.get("raw_config") or kubeconfig.get("rawConfig") or "")


class MagnumCluster(pulumi.ComponentResource):
    """ClusterTemplate, Cluster (first node group) and a NodeGroup for each further group."""

    kubeconfig: pulumi.Output[str]
    api_url: pulumi.Output[str]
    floating_ip: pulumi.Output[str]
    nodes: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: MagnumClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:MagnumCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.args = args
        if not args.node_groups:
            raise ValueError("a Magnum cluster needs at least one node group")
        first, *others = args.node_groups
        self.keypair = openstack.compute.Keypair(
            f"{name}-keypair", name=args.keypair_name, public_key=args.public_key, opts=child
        )
        self.template = openstack.containerinfra.ClusterTemplate(
            f"{name}-template",
            name=args.template_name,
            coe="kubernetes",
            image=args.image_name,
            external_network_id=args.external_network_id,
            fixed_network=args.network_id,
            fixed_subnet=args.subnet_id,
            dns_nameserver=args.dns_nameserver,
            master_flavor=args.control_plane_flavor,
            flavor=first.flavor,
            network_driver=args.network_driver,
            volume_driver="cinder",
            # Behind the masters' load balancer no node needs an address of its own: the
            # API is the balancer's, the ingress a LoadBalancer Service's.
            floating_ip_enabled=not args.master_lb_enabled,
            master_lb_enabled=args.master_lb_enabled,
            labels=template_labels(args),
            opts=child,
        )
        self.cluster = openstack.containerinfra.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            cluster_template_id=self.template.id,
            keypair=self.keypair.name,
            master_count=args.control_plane_count,
            master_flavor=args.control_plane_flavor,
            node_count=first.count,
            flavor=first.flavor,
            fixed_network=args.network_id,
            fixed_subnet=args.subnet_id,
            create_timeout=args.create_timeout_minutes,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.routed),
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{args.create_timeout_minutes}m",
                    update=f"{args.create_timeout_minutes}m",
                ),
            ),
        )
        roles = node_group_roles([group.name for group in args.node_groups])
        self.node_groups = [
            openstack.containerinfra.NodeGroup(
                f"{name}-{group.name}",
                name=group.name,
                cluster_id=self.cluster.id,
                flavor_id=group.flavor,
                node_count=group.count,
                role=roles[group.name],
                opts=child,
            )
            for group in others
        ]
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig.apply(_raw_config))
        self.api_url = self.cluster.api_address
        self.floating_ip = (
            self.cluster.api_address.apply(_host)
            if args.master_lb_enabled
            else self.cluster.master_addresses.apply(lambda a: a[0] if a else "")
        )
        self.nodes = pulumi.Output.all(
            self.cluster.master_addresses, self.cluster.node_addresses
        ).apply(
            lambda v: {
                "control-plane": [{"name": "", "ip": ip} for ip in v[0] or []],
                first.name: [{"name": "", "ip": ip} for ip in v[1] or []],
            }
        )
        self.register_outputs(
            {"apiUrl": self.api_url, "kubeconfig": self.kubeconfig, "nodes": self.nodes}
        )

    def node_selector(self, key: str, value: str) -> tuple[str, tuple[str, ...]]:
        """The node label and values that pick the groups meant to carry `key=value`.

        Magnum cannot set chosen labels: its nodes carry their group's role under
        ROLE_LABEL, which stands in for the label.
        """
        roles = node_group_roles([g.name for g in self.args.node_groups])
        chosen = [g for g in self.args.node_groups if dict(g.labels).get(key) == value]
        return ROLE_LABEL, tuple(roles[g.name] for g in chosen)
