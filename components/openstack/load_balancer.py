"""An Octavia load balancer in front of a fixed set of servers, with the floating IP on it.

One TCP listener per port, each with its pool, members and health monitor. A listener may
pass the client's address on with the PROXY protocol (the backend must expect it) and may
admit only some source CIDRs (Octavia's `allowed_cidrs`): behind a load balancer the
servers see the balancer's address, so who may connect is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack


@dataclass(frozen=True)
class Listener:
    port: int
    proxy_protocol: bool = False  # the pool speaks PROXY to members: the client's address
    allowed_cidrs: tuple[str, ...] = ()  # empty: everyone


@dataclass(frozen=True)
class LoadBalancerArgs:
    name: str  # physical name; listeners and pools are `<name>-<port>`
    subnet_id: pulumi.Input[str]
    vip_address: str  # fixed, so user data can name it before the balancer exists
    members: tuple[str, ...]  # the servers' fixed addresses
    listeners: tuple[Listener, ...]
    floating_ip: pulumi.Input[str] | None = None  # associated with the VIP's port
    # What the association waits for (the subnet's router interface: before it, Neutron
    # cannot reach the VIP's subnet from the floating-IP pool and refuses).
    floating_ip_after: tuple[pulumi.Resource, ...] = ()


class LoadBalancer(pulumi.ComponentResource):
    """The balancer, its listeners, pools, members and monitors; `vip_address` is fixed."""

    vip_address: str

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.balancer = openstack.loadbalancer.LoadBalancer(
            f"{name}-balancer",
            name=args.name,
            vip_subnet_id=args.subnet_id,
            vip_address=args.vip_address,
            opts=child,
        )
        for listener in args.listeners:
            self._listen(name, args, listener)
        if args.floating_ip is not None:
            openstack.networking.FloatingIpAssociate(
                f"{name}-fip-association",
                floating_ip=args.floating_ip,
                port_id=self.balancer.vip_port_id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.floating_ip_after)),
            )
        self.vip_address = args.vip_address
        self.register_outputs({"vipAddress": self.vip_address})

    def _listen(self, name: str, args: LoadBalancerArgs, listener: Listener) -> None:
        child = pulumi.ResourceOptions(parent=self)
        port = listener.port
        front = openstack.loadbalancer.Listener(
            f"{name}-{port}",
            name=f"{args.name}-{port}",
            loadbalancer_id=self.balancer.id,
            protocol="TCP",
            protocol_port=port,
            allowed_cidrs=list(listener.allowed_cidrs) or None,
            opts=child,
        )
        pool = openstack.loadbalancer.Pool(
            f"{name}-{port}-pool",
            name=f"{args.name}-{port}",
            listener_id=front.id,
            protocol="PROXY" if listener.proxy_protocol else "TCP",
            lb_method="SOURCE_IP_PORT",
            opts=child,
        )
        openstack.loadbalancer.Monitor(
            f"{name}-{port}-monitor",
            pool_id=pool.id,
            type="TCP",
            delay=5,
            timeout=3,
            max_retries=3,
            opts=child,
        )
        for index, address in enumerate(args.members):
            openstack.loadbalancer.Member(
                f"{name}-{port}-member-{index}",
                pool_id=pool.id,
                address=address,
                protocol_port=port,
                subnet_id=args.subnet_id,
                opts=child,
            )
