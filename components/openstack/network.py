"""A private network routed to an external network: the address space a cluster lives in."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack


@dataclass(frozen=True)
class NetworkArgs:
    """What the network needs to know; the caller chooses every physical name."""

    network_name: str
    subnet_name: str
    router_name: str
    cidr: str
    dns_nameservers: tuple[str, ...]
    external_network_id: pulumi.Input[str]
    tags: tuple[str, ...] = ()


class Network(pulumi.ComponentResource):
    """Network, subnet (with DNS for the nodes), router with an external gateway, interface."""

    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    router_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = list(args.tags)
        self.network = openstack.networking.Network(
            f"{name}-net",
            name=args.network_name,
            admin_state_up=True,
            tags=tags,
            opts=child,
        )
        self.subnet = openstack.networking.Subnet(
            f"{name}-subnet",
            name=args.subnet_name,
            network_id=self.network.id,
            cidr=args.cidr,
            ip_version=4,
            dns_nameservers=list(args.dns_nameservers),
            tags=tags,
            opts=child,
        )
        self.router = openstack.networking.Router(
            f"{name}-router",
            name=args.router_name,
            admin_state_up=True,
            external_network_id=args.external_network_id,
            tags=tags,
            opts=child,
        )
        self.interface = openstack.networking.RouterInterface(
            f"{name}-router-interface",
            router_id=self.router.id,
            subnet_id=self.subnet.id,
            opts=child,
        )
        self.network_id = self.network.id
        self.subnet_id = self.subnet.id
        self.router_id = self.router.id
        self.register_outputs(
            {
                "network_id": self.network_id,
                "subnet_id": self.subnet_id,
                "router_id": self.router_id,
            }
        )
