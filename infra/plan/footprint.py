"""What a plan would take from an OpenStack project: servers, flavors, volumes, network objects.

Computed from the offline plan alone, so preflight asks the cloud the same few questions
whatever the size of the stack, and sandbox listings need no cloud at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.plan.model import Plan
from infra.stack.profiles import Flavor


@dataclass(frozen=True)
class Footprint:
    flavors: Counter[str] = field(default_factory=Counter)  # flavor name -> servers
    volumes: int = 0
    gigabytes: int = 0
    floating_ips: int = 0
    networks: int = 0
    subnets: int = 0
    routers: int = 0
    ports: int = 0
    security_groups: int = 0
    security_group_rules: int = 0
    server_groups: int = 0

    @property
    def instances(self) -> int:
        return sum(self.flavors.values())

    def size(self, flavors: Mapping[str, Flavor]) -> tuple[int, int] | None:
        """vCPU and RAM (MiB) of the instances; None if a flavor's size is not known."""
        if any(name not in flavors for name in self.flavors):
            return None
        vcpus = sum(flavors[name].vcpus * count for name, count in self.flavors.items())
        ram = sum(flavors[name].ram_mib * count for name, count in self.flavors.items())
        return vcpus, ram


def footprint(plan: Plan) -> Footprint:
    """Resources the plan creates in its project (Magnum's own extras are estimated)."""
    flavors: Counter[str] = Counter()
    volumes = gigabytes = fips = 0
    for instance in plan.find("openstack:compute/instance:Instance"):
        flavors[str(instance.inputs.get("flavorName"))] += 1
        for device in instance.inputs.get("blockDevices") or []:
            if device.get("destinationType") == "volume":
                volumes += 1
                gigabytes += int(device.get("volumeSize") or 0)
    for cluster in plan.find("openstack:containerinfra/cluster:Cluster"):
        masters, nodes = (
            int(cluster.inputs.get("masterCount", 1)),
            int(cluster.inputs.get("nodeCount", 1)),
        )
        flavors[str(cluster.inputs.get("masterFlavor"))] += masters
        flavors[str(cluster.inputs.get("flavor"))] += nodes
        fips += masters + nodes  # the template gives every Magnum node a floating IP
    for group in plan.find("openstack:containerinfra/nodeGroup:NodeGroup"):
        count = int(group.inputs.get("nodeCount", 1))
        flavors[str(group.inputs.get("flavorId"))] += count
        fips += count
    subnets = len(plan.find("openstack:networking/subnet:Subnet"))
    ports = (
        len(plan.find("openstack:networking/port:Port"))
        + len(plan.find("openstack:networking/routerInterface:RouterInterface"))
        + subnets  # Neutron's DHCP port on each subnet
    )
    return Footprint(
        flavors=flavors,
        volumes=volumes,
        gigabytes=gigabytes,
        floating_ips=fips + len(plan.find("openstack:networking/floatingIp:FloatingIp")),
        networks=len(plan.find("openstack:networking/network:Network")),
        subnets=subnets,
        routers=len(plan.find("openstack:networking/router:Router")),
        ports=ports,
        security_groups=len(plan.find("openstack:networking/secGroup:SecGroup")),
        security_group_rules=len(plan.find("openstack:networking/secGroupRule:SecGroupRule")),
        server_groups=len(plan.find("openstack:compute/serverGroup:ServerGroup")),
    )
