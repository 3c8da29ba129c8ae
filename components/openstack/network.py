"""A private network routed to an external network: the address space a cluster lives in."""

from __future__ import annotations

import ipaddress
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
    # Hosts .1 to .<reserved_hosts - 1> stay out of DHCP's pool: the gateway and the
    # addresses the caller fixes (control planes, a load balancer's VIP).
    reserved_hosts: int = 0


def _pool(cidr: str, reserved_hosts: int) -> list[openstack.networking.SubnetAllocationPoolArgs]:
    if not reserved_hosts:
        return []
    network = ipaddress.ip_network(cidr)
    start, end = network.network_address + reserved_hosts, network.broadcast_address - 1
    return [openstack.networking.SubnetAllocationPoolArgs(start=str(start), end=str(end))]


class Network(pulumi.ComponentResource):
    """Network, subnet (with DNS for the nodes), router with an external gateway, interface."""

    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    router_id: pulumi.Output[str]
    # The router interface: until it exists Neutron refuses a floating IP on the subnet
    # (ExternalGatewayForFloatingIPNotFound), so every association waits for it.
    routed: pulumi.Resource

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
            allocation_pools=_pool(args.cidr, args.reserved_hosts),
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
        self.routed = self.interface
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
