"""What a stack already holds in its project, so preflight asks only for what is new.

An update of a deployed stack needs no new quota for the servers, ports and groups it
already has; counting them again would refuse a prod update that fits. A resource is held
when the project has one with the physical name the plan gives it (names carry the stack's
prefix, so two stacks in one project never match each other's); floating IPs, volumes,
security-group rules and Neutron's own ports are held through what they belong to. One
listing per kind, so the number of requests does not grow with the stack.

Magnum's servers are named by Heat, not by the plan: for that backend only the network
objects count as held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from infra.ops.cloud import Cloud
from infra.plan.footprint import Footprint
from infra.plan.model import Plan

# Ports Neutron makes itself on a network the stack holds (counted in the footprint too).
NEUTRON_OWNERS = ("network:dhcp", "network:router_interface")

# Kind -> the plan's resource type whose `name` input is that kind's physical name.
TOKENS = {
    "servers": "openstack:compute/instance:Instance",
    "server_groups": "openstack:compute/serverGroup:ServerGroup",
    "networks": "openstack:networking/network:Network",
    "subnets": "openstack:networking/subnet:Subnet",
    "routers": "openstack:networking/router:Router",
    "security_groups": "openstack:networking/secGroup:SecGroup",
    "ports": "openstack:networking/port:Port",
}


def _plan_names(plan: Plan, kind: str) -> set[Any]:
    """The physical names the plan gives its resources of `kind`."""
    return {r.inputs.get("name") for r in plan.find(TOKENS[kind])}


def _named(plan: Plan, kind: str, listing: Callable[[], Iterable[Any]], cloud: Cloud) -> list[Any]:
    """The objects of one listing that carry a name the plan gives a resource of `kind`."""
    names = _plan_names(plan, kind)
    return [item for item in cloud.call(lambda: list(listing())) if item.name in names]


def _flavor_name(server: Any, flavor_names: dict[str, str]) -> str:
    """The flavor a server runs: embedded by name (Nova 2.47+) or looked up by id."""
    flavor = server.flavor
    name = getattr(flavor, "original_name", None) or getattr(flavor, "name", None)
    if name:
        return str(name)
    return flavor_names.get(str(getattr(flavor, "id", "")), "")


def holdings(cloud: Cloud, plan: Plan, flavor_names: dict[str, str]) -> Footprint:
    """The part of the plan's footprint that already exists; `flavor_names` maps id -> name."""
    conn = cloud.connection
    servers = _named(plan, "servers", lambda: conn.compute.servers(details=True), cloud)
    server_ids = {s.id for s in servers}
    flavors = Counter(_flavor_name(s, flavor_names) for s in servers)
    volumes = [
        v
        for v in cloud.call(lambda: list(conn.block_storage.volumes(details=True)))
        if any(a.get("server_id") in server_ids for a in v.attachments or [])
    ]
    server_groups = _named(plan, "server_groups", conn.compute.server_groups, cloud)
    networks = _named(plan, "networks", conn.network.networks, cloud)
    network_ids = {n.id for n in networks}
    subnets = [
        s
        for s in _named(plan, "subnets", conn.network.subnets, cloud)
        if s.network_id in network_ids
    ]
    routers = _named(plan, "routers", conn.network.routers, cloud)
    groups = _named(plan, "security_groups", conn.network.security_groups, cloud)
    port_names = _plan_names(plan, "ports")
    ports = [
        p
        for p in cloud.call(lambda: list(conn.network.ports()))
        if p.network_id in network_ids
        and (p.name in port_names or (p.device_owner or "") in NEUTRON_OWNERS)
    ]
    port_ids = {p.id for p in ports}
    floating_ips = [
        ip for ip in cloud.call(lambda: list(conn.network.ips())) if ip.port_id in port_ids
    ]
    return Footprint(
        flavors=flavors,
        volumes=len(volumes),
        gigabytes=sum(int(v.size or 0) for v in volumes),
        floating_ips=len(floating_ips),
        networks=len(networks),
        subnets=len(subnets),
        routers=len(routers),
        ports=len(ports),
        security_groups=len(groups),
        security_group_rules=sum(len(g.security_group_rules or []) for g in groups),
        server_groups=len(server_groups),
    )
