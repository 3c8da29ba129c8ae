"""A kubeadm Kubernetes cluster on Nova instances, fully declared: no SSH, no manual steps.

The program makes the cluster's CAs and service-account key (pulumi_tls) and its join
token (pulumi_random; the platform layer keeps it in the cluster as a bootstrap-token
Secret); cloud-init writes the keys to each control plane, so the join hash and an admin
kubeconfig are computed here. The floating IP on the first control plane's port is
both the API endpoint and the ingress entry, and it is in the API server's SANs.

The user data holds cluster secrets: it is a secret output, and pods must be kept away from
the metadata service that serves it (the platform layer's network policy does that).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_openstack as openstack
import pulumi_random as random
import pulumi_tls as tls

from components.kubeadm import cloud_init, documents, pki
from components.openstack.load_balancer import Listener, LoadBalancer, LoadBalancerArgs

CA_HOURS = 10 * 365 * 24
ADMIN_HOURS = 365 * 24
# In its last 30 days the program's admin certificate is replaced by the next `up` (the CA
# signs it here; nothing on the cluster changes), so the kubeconfig never lapses.
ADMIN_RENEWAL_HOURS = 30 * 24
CONTROL_PLANE_OFFSET = 10  # control-plane i gets host .10+i of the node subnet
API_VIP_OFFSET = 9  # the API load balancer's VIP, host .9
# Kept out of DHCP's pool: the gateway (.1), the VIP and up to five control planes.
RESERVED_HOSTS = 20
ADMISSION_CONFIG = "/etc/kubernetes/admission/admission.yaml"
# A Nova server's inputs that would replace it (user data, boot volume: a new image's id),
# rebuild it (image name) or resize it (flavor): what it is built from, not what it is.
RECIPE_INPUTS = ("userData", "imageName", "blockDevices", "flavorName")


def _admission(args: KubeadmClusterArgs) -> tuple[str, str] | None:
    """The admission file every control plane writes (the API server reads it from disk)."""
    if args.pod_security is None:
        return None
    enforce, exempt = args.pod_security
    document = documents.pod_security_admission(enforce, exempt)
    return ADMISSION_CONFIG, documents.render([document])


@dataclass(frozen=True)
class NodeNames:
    """A node's names: its Nova server, its pre-made Neutron port, and its logical key.

    The key names the node's resources under the cluster: a node with a new key is a new
    node (how a group rolls to a new wave), one that keeps its key is never replaced by a
    changed recipe.
    """

    server: str
    port: str
    key: str


@dataclass(frozen=True)
class ControlPlaneSpec:
    """The control planes: one per name, in `server_group` (anti-affinity)."""

    flavor: str
    server_group: str
    nodes: tuple[NodeNames, ...]


@dataclass(frozen=True)
class NodeGroupSpec:
    """Identical workers, one per name: labels and taints are applied by kubelet at join."""

    name: str
    flavor: str
    server_group: str
    nodes: tuple[NodeNames, ...]
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[documents.Taint, ...] = ()


@dataclass(frozen=True)
class KubeadmClusterArgs:
    """The cluster's specification; every physical name is the caller's choice."""

    cluster_name: str
    keypair_name: str
    api_host: str  # the API's name inside the cluster, resolved to control plane 0
    floating_ip_description: str
    kubernetes_version: str
    image_name: str
    public_key: str
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    node_cidr: str
    pod_cidr: str
    service_cidr: str
    floating_ip_pool: str
    control_plane: ControlPlaneSpec
    node_groups: tuple[NodeGroupSpec, ...]
    security_group_ids: Mapping[str, pulumi.Input[str]]  # control-plane, workers, ingress
    cni: cloud_init.CniInstall
    # The package repository's signing key, checked on each node before apt trusts it.
    apt_key_fingerprint: str
    api_sans: tuple[str, ...] = ()
    boot_volume_size: int | None = None
    allowed_address_cidrs: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    group_metadata_key: str = "node-group"  # Nova metadata key naming a node's group
    # Nodes read their instance data from a config drive and close the metadata service
    # after boot, so no pod or host process can fetch the user data (and its keys) later.
    config_drive: bool = True
    # Protect what losing would lose the cluster: control planes and their ports, the CAs
    # and service-account key, the floating IP the DNS names point at.
    protect: bool = False
    # A node's recipe (RECIPE_INPUTS) applies when it is created; changing it later
    # changes no node.
    recipe_for_new_nodes_only: bool = True
    # Pod Security admission on every API server: (enforced level, exempt namespaces).
    pod_security: tuple[str, tuple[str, ...]] | None = None
    # The entry: None keeps the floating IP on control plane 0's port; a name puts an
    # Octavia load balancer (that name) over every control plane, the floating IP on its
    # VIP (host API_VIP_OFFSET), and nodes reach the API through it.
    load_balancer: str | None = None
    api_allowed_cidrs: tuple[str, ...] = ()  # who may reach 6443 through the balancer
    # What makes the subnet reachable from the floating-IP pool (the router interface):
    # Neutron refuses a floating IP's association before it exists.
    routed: tuple[pulumi.Resource, ...] = ()


def api_vip_address(node_cidr: str) -> str:
    """The API load balancer's fixed VIP, below the control planes' addresses."""
    return str(ipaddress.ip_network(node_cidr).network_address + API_VIP_OFFSET)


def control_plane_addresses(node_cidr: str, count: int) -> list[str]:
    """Fixed addresses of the control planes, so user data never waits on DHCP."""
    network = ipaddress.ip_network(node_cidr)
    return [str(network.network_address + CONTROL_PLANE_OFFSET + i) for i in range(count)]


def _ca(
    parent: pulumi.Resource, name: str, common_name: str, protect: bool = False
) -> tuple[Any, Any]:
    opts = pulumi.ResourceOptions(parent=parent, protect=protect)
    key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
    cert = tls.SelfSignedCert(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=common_name),
        is_ca_certificate=True,
        validity_period_hours=CA_HOURS,
        allowed_uses=["cert_signing", "digital_signature", "key_encipherment"],
        opts=opts,
    )
    return key, cert


@dataclass(frozen=True)
class _Layout:
    """Where the API lives inside the cluster: a name control plane 0 resolves to itself and
    every other node to `api_address` (control plane 0 too, or the balancer's VIP)."""

    api_name: str
    endpoint: str
    cp_addresses: tuple[str, ...]
    api_address: str

    @property
    def hosts(self) -> tuple[tuple[str, str], ...]:
        return ((self.api_name, self.api_address),)

    @property
    def first_hosts(self) -> tuple[tuple[str, str], ...]:
        """Control plane 0 initialises the cluster: its own API server is the one there is."""
        return ((self.api_name, self.cp_addresses[0]),)


def _init_user_data(args: KubeadmClusterArgs, layout: _Layout, values: list[Any]) -> str:
    fip, token, ca_hash, pki_files = values
    config = documents.init_documents(
        cluster_name=args.cluster_name,
        kubernetes_version=args.kubernetes_version,
        advertise_address=layout.cp_addresses[0],
        control_plane_endpoint=layout.endpoint,
        cert_sans=sorted(
            {fip, layout.api_name, layout.api_address, *args.api_sans, *layout.cp_addresses}
        ),
        pod_subnet=args.pod_cidr,
        service_subnet=args.service_cidr,
        admission_config=ADMISSION_CONFIG if args.pod_security else None,
    )
    return cloud_init.render(
        kubernetes_version=args.kubernetes_version,
        apt_key_fingerprint=args.apt_key_fingerprint,
        kubeadm_config=documents.render(config),
        action="init",
        hosts=layout.first_hosts,
        pki=pki_files,
        cni=args.cni,
        block_metadata=args.config_drive,
        admission=_admission(args),
        rejoin=_rejoin(layout, token, ca_hash),
    )


def _rejoin(layout: _Layout, token: str, ca_hash: str) -> cloud_init.Rejoin | None:
    """How a replacement of control plane 0 joins the cluster its peers still run."""
    own, *peers = layout.cp_addresses
    if not peers:
        return None  # a lone control plane has nobody to join: its loss is a restore
    join = _join_config(layout, token, ca_hash, {}, (), own)
    return cloud_init.Rejoin(join, tuple(peers), layout.api_name, own)


def _join_config(
    layout: _Layout,
    token: str,
    ca_hash: str,
    labels: Mapping[str, str],
    taints: tuple[documents.Taint, ...],
    control_plane_address: str | None,
) -> str:
    """The kubeadm JoinConfiguration of a worker, or of a control plane at its address."""
    config = documents.join_documents(
        api_endpoint=layout.endpoint,
        bootstrap_token=token,
        ca_cert_hash=ca_hash,
        labels=labels,
        taints=taints,
        control_plane_address=control_plane_address,
    )
    return documents.render(config)


def _join_user_data(
    args: KubeadmClusterArgs,
    layout: _Layout,
    labels: Mapping[str, str],
    taints: tuple[documents.Taint, ...],
    control_plane_address: str | None,
    values: list[Any],
) -> str:
    token, ca_hash, *rest = values
    return cloud_init.render(
        kubernetes_version=args.kubernetes_version,
        apt_key_fingerprint=args.apt_key_fingerprint,
        kubeadm_config=_join_config(layout, token, ca_hash, labels, taints, control_plane_address),
        action="join-control-plane" if control_plane_address else "join",
        hosts=layout.hosts,
        pki=rest[0] if rest else None,
        block_metadata=args.config_drive,
        admission=_admission(args) if control_plane_address else None,
    )


def _nodes(
    names: list[tuple[str, str]], addresses: list[list[str]]
) -> dict[str, list[dict[str, str]]]:
    """Each group's nodes, in order, with the first address of each."""
    nodes: dict[str, list[dict[str, str]]] = {}
    for (group, node), ips in zip(names, addresses, strict=True):
        nodes.setdefault(group, []).append({"name": node, "ip": ips[0] if ips else ""})
    return nodes


def _kubeconfig(cluster: str, values: list[Any]) -> str:
    fip, ca_cert, client_cert, client_key = values
    return pki.kubeconfig(
        cluster=cluster,
        server=f"https://{fip}:6443",
        ca_cert_pem=ca_cert,
        client_cert_pem=client_cert,
        client_key_pem=client_key,
    )


def _node_set_digest(args: KubeadmClusterArgs) -> str:
    """A short digest of every node's key, control planes included."""
    keys = [n.key for n in args.control_plane.nodes]
    keys += [n.key for group in args.node_groups for n in group.nodes]
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


def _secret(value: pulumi.Output[Any]) -> pulumi.Output[Any]:
    return pulumi.Output.secret(value)


class KubeadmCluster(pulumi.ComponentResource):
    """Control planes and node groups from kubeadm; kubeconfig and addresses as outputs."""

    kubeconfig: pulumi.Output[str]
    api_url: pulumi.Output[str]
    floating_ip: pulumi.Output[str]
    nodes: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: KubeadmClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:KubeadmCluster", name, None, opts)
        self.args = args
        self.name = name
        child = pulumi.ResourceOptions(parent=self)
        self.keypair = openstack.compute.Keypair(
            f"{name}-keypair", name=args.keypair_name, public_key=args.public_key, opts=child
        )
        self._make_pki()
        # A new join token whenever the set of nodes changes: the token in a retired or
        # existing node's user data stops working once the cluster's Secret moves on.
        keepers = {"nodes": _node_set_digest(args)}
        token_id = random.RandomString(
            f"{name}-token-id", length=6, upper=False, special=False, keepers=keepers, opts=child
        )
        token_secret = random.RandomPassword(
            f"{name}-token-secret",
            length=16,
            upper=False,
            special=False,
            keepers=keepers,
            opts=child,
        )
        self.token_id: pulumi.Output[str] = token_id.result
        self.token_secret: pulumi.Output[str] = _secret(token_secret.result)
        self.token = _secret(pulumi.Output.concat(token_id.result, ".", token_secret.result))
        self.ca_cert_hash: pulumi.Output[str] = self.ca.cert_pem.apply(pki.ca_cert_hash)
        self.fip = openstack.networking.FloatingIp(
            f"{name}-api-fip",
            pool=args.floating_ip_pool,
            description=args.floating_ip_description,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),  # DNS points here
        )
        self.image_id: pulumi.Output[str] | None = None
        if args.boot_volume_size:
            self.image_id = openstack.images.get_image_output(
                name=args.image_name, most_recent=True, opts=pulumi.InvokeOutputOptions(parent=self)
            ).id
        addresses = tuple(control_plane_addresses(args.node_cidr, len(args.control_plane.nodes)))
        api_name = args.api_host
        vip = api_vip_address(args.node_cidr)
        self.layout = _Layout(
            api_name, f"{api_name}:6443", addresses, vip if args.load_balancer else addresses[0]
        )
        self.nodes_by_group: dict[str, list[tuple[str, openstack.networking.Port]]] = {}
        self._control_planes()
        self._workers()

        self.floating_ip = self.fip.address
        self.api_url = self.fip.address.apply(lambda ip: f"https://{ip}:6443")
        self.kubeconfig = _secret(
            pulumi.Output.all(
                self.fip.address,
                self.ca.cert_pem,
                self.admin_cert.cert_pem,
                self.admin_key.private_key_pem,
            ).apply(functools.partial(_kubeconfig, args.cluster_name))
        )
        # One Output over every node's addresses: an Output per node would be lifted again,
        # field by field, by `Output.all` (most of what a node otherwise costs a plan).
        members = [
            (group, node, port)
            for group, nodes in self.nodes_by_group.items()
            for node, port in nodes
        ]
        self.nodes = pulumi.Output.all(*[port.all_fixed_ips for _, _, port in members]).apply(
            functools.partial(_nodes, [(group, node) for group, node, _ in members])
        )
        self.register_outputs(
            {
                "apiUrl": self.api_url,
                "floatingIp": self.floating_ip,
                "kubeconfig": self.kubeconfig,
                "nodes": self.nodes,
            }
        )

    def node_selector(self, key: str, value: str) -> tuple[str, tuple[str, ...]]:
        """The node label and values that pick the groups carrying `key=value`.

        kubelet applies each group's labels as given, so the label selects itself.
        """
        return key, (value,)

    def _make_pki(self) -> None:
        name, child = self.name, pulumi.ResourceOptions(parent=self)
        # The cluster's identity: losing a CA or the service-account key loses the cluster.
        keep = self.args.protect
        self.ca_key, self.ca = _ca(self, f"{name}-ca", "kubernetes", keep)
        self.front_proxy_key, self.front_proxy = _ca(
            self, f"{name}-front-proxy-ca", "front-proxy-ca", keep
        )
        self.etcd_key, self.etcd = _ca(self, f"{name}-etcd-ca", "etcd-ca", keep)
        self.sa_key = tls.PrivateKey(
            f"{name}-sa-key",
            algorithm="ECDSA",
            ecdsa_curve="P256",
            opts=pulumi.ResourceOptions(parent=self, protect=keep),
        )
        self.admin_key = tls.PrivateKey(
            f"{name}-admin-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child
        )
        csr = tls.CertRequest(
            f"{name}-admin-csr",
            private_key_pem=self.admin_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(
                common_name="ukdac-admin", organization="kubeadm:cluster-admins"
            ),
            opts=child,
        )
        self.admin_cert = tls.LocallySignedCert(
            f"{name}-admin-cert",
            cert_request_pem=csr.cert_request_pem,
            ca_private_key_pem=self.ca_key.private_key_pem,
            ca_cert_pem=self.ca.cert_pem,
            validity_period_hours=ADMIN_HOURS,
            early_renewal_hours=ADMIN_RENEWAL_HOURS,
            allowed_uses=["digital_signature", "key_encipherment", "client_auth"],
            opts=child,
        )
        self.pki_files: pulumi.Output[cloud_init.Pki] = pulumi.Output.all(
            self.ca.cert_pem,
            self.ca_key.private_key_pem,
            self.front_proxy.cert_pem,
            self.front_proxy_key.private_key_pem,
            self.etcd.cert_pem,
            self.etcd_key.private_key_pem,
            self.sa_key.private_key_pem,
            self.sa_key.public_key_pem,
        ).apply(lambda v: cloud_init.Pki(*v))

    def _control_planes(self) -> None:
        args, layout = self.args, self.layout
        spec = args.control_plane
        server_group = self._server_group("control-plane", spec.server_group, "anti-affinity")
        self.first: openstack.compute.Instance | None = None
        for index, (node, address) in enumerate(zip(spec.nodes, layout.cp_addresses, strict=True)):
            logical = f"{self.name}-{node.key}"
            groups = [args.security_group_ids["control-plane"]]
            if index == 0 and args.load_balancer is None:
                groups.append(args.security_group_ids["ingress"])  # the floating IP's port
            port = self._port(logical, node.port, groups, address, protect=args.protect)
            if index == 0:
                user_data = pulumi.Output.all(
                    self.fip.address, self.token, self.ca_cert_hash, self.pki_files
                ).apply(functools.partial(_init_user_data, args, layout))
            else:
                user_data = pulumi.Output.all(self.token, self.ca_cert_hash, self.pki_files).apply(
                    functools.partial(_join_user_data, args, layout, {}, (), address)
                )
            instance = self._instance(
                logical,
                node.server,
                "control-plane",
                port,
                server_group,
                _secret(user_data),
                spec.flavor,
                protect=args.protect,
            )
            self.first = self.first or instance
            self.nodes_by_group.setdefault("control-plane", []).append((node.server, port))
        if args.load_balancer is not None:
            self.load_balancer: LoadBalancer | None = LoadBalancer(
                f"{self.name}-api",
                LoadBalancerArgs(
                    name=args.load_balancer,
                    subnet_id=args.subnet_id,
                    vip_address=layout.api_address,
                    members=layout.cp_addresses,
                    listeners=(
                        # Admins and the nodes themselves (kubelets reach the API here).
                        Listener(6443, allowed_cidrs=(*args.api_allowed_cidrs, args.node_cidr)),
                        # The client's address reaches the ingress controller by PROXY.
                        Listener(80, proxy_protocol=True),
                        Listener(443, proxy_protocol=True),
                    ),
                    floating_ip=self.fip.address,
                    floating_ip_after=args.routed,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            return
        self.load_balancer = None
        self.fip_association = openstack.networking.FloatingIpAssociate(
            f"{self.name}-api-fip-association",
            floating_ip=self.fip.address,
            port_id=self.nodes_by_group["control-plane"][0][1].id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.routed)),
        )

    def _workers(self) -> None:
        args, layout = self.args, self.layout
        for group in args.node_groups:
            server_group = self._server_group(group.name, group.server_group, "soft-anti-affinity")
            # One secret user data per group, shared by its nodes.
            user_data = _secret(
                pulumi.Output.all(self.token, self.ca_cert_hash).apply(
                    functools.partial(
                        _join_user_data, args, layout, dict(group.labels), group.taints, None
                    )
                )
            )
            for node in group.nodes:
                logical = f"{self.name}-{node.key}"
                workers = [args.security_group_ids["workers"]]
                port = self._port(logical, node.port, workers, None)
                self._instance(
                    logical, node.server, group.name, port, server_group, user_data, group.flavor
                )
                self.nodes_by_group.setdefault(group.name, []).append((node.server, port))

    def _server_group(
        self, group: str, physical: str, policy: str
    ) -> openstack.compute.ServerGroup:
        return openstack.compute.ServerGroup(
            f"{self.name}-{group}-servers",
            name=physical,
            policies=policy,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _port(
        self,
        logical: str,
        physical: str,
        security_groups: list[pulumi.Input[str]],
        address: str | None,
        protect: bool = False,
    ) -> openstack.networking.Port:
        fixed = openstack.networking.PortFixedIpArgs(
            subnet_id=self.args.subnet_id, ip_address=address
        )
        return openstack.networking.Port(
            f"{logical}-port",
            name=physical,
            network_id=self.args.network_id,
            admin_state_up=True,
            fixed_ips=[fixed],
            security_group_ids=security_groups,
            allowed_address_pairs=[
                openstack.networking.PortAllowedAddressPairArgs(ip_address=cidr)
                for cidr in self.args.allowed_address_cidrs
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )

    def _instance(
        self,
        logical: str,
        physical: str,
        group: str,
        port: openstack.networking.Port,
        server_group: openstack.compute.ServerGroup,
        user_data: pulumi.Output[str],
        flavor: str,
        protect: bool = False,
    ) -> openstack.compute.Instance:
        """A node on its pre-made port; `user_data` comes secret (a group's nodes share it)."""
        args = self.args
        block_devices = None
        if self.image_id is not None:
            block_devices = [
                openstack.compute.InstanceBlockDeviceArgs(
                    uuid=self.image_id,
                    source_type="image",
                    destination_type="volume",
                    volume_size=args.boot_volume_size,
                    boot_index=0,
                    delete_on_termination=True,
                )
            ]
        after = [self.first] if self.first is not None else None
        return openstack.compute.Instance(
            logical,
            name=physical,
            flavor_name=flavor,
            image_name=None if block_devices else args.image_name,
            block_devices=block_devices,
            key_pair=self.keypair.name,
            config_drive=args.config_drive or None,
            networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
            user_data=user_data,
            scheduler_hints=[openstack.compute.InstanceSchedulerHintArgs(group=server_group.id)],
            metadata={**args.metadata, args.group_metadata_key: group},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=after,
                protect=protect,
                # What a node is built from is the recipe for new nodes: changing it never
                # replaces, rebuilds or resizes a running node (a group rolls to a new
                # recipe through a new generation of nodes).
                ignore_changes=list(RECIPE_INPUTS) if args.recipe_for_new_nodes_only else None,
                # The pre-made port is bound to the old server until it is gone.
                delete_before_replace=True,
            ),
        )
