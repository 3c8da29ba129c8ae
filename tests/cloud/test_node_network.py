"""The node subnet as the program plans it, made on the real Neutron as the project's own
(non-admin) user: DHCP hands workers only addresses of the planned pool, while the fixed
addresses below it (the API balancer's VIP, the control planes) can still be taken."""

from __future__ import annotations

import ipaddress
from typing import Any

from infra.plan.engine import plan_stack
from infra.stack.files import load_project
from tests.support.stacks import ROOT

SUBNET = "openstack:networking/subnet:Subnet"
PORT = "openstack:networking/port:Port"


def test_dhcp_keeps_to_the_pool_and_fixed_addresses_below_it_are_free(demo: Any) -> None:
    plan = plan_stack(load_project(ROOT), "ukdac-prod")  # a balancer and three control planes
    (planned_subnet,) = plan.find(SUBNET)
    pools = planned_subnet.inputs["allocationPools"]
    fixed = sorted(
        {
            f["ipAddress"]
            for port in plan.find(PORT)
            for f in port.inputs["fixedIps"]
            if "ipAddress" in f
        }
        | {
            r.inputs["vipAddress"]
            for r in plan.find("openstack:loadbalancer/loadBalancer:LoadBalancer")
        }
    )
    assert len(fixed) == 4  # .9 and .10-.12
    network = demo.network.create_network(name="ukdac-test-node-network")
    made: list[Any] = []
    try:
        subnet = demo.network.create_subnet(
            name="ukdac-test-node-subnet",
            network_id=network.id,
            ip_version=4,
            cidr=planned_subnet.inputs["cidr"],
            allocation_pools=pools,
        )
        start = ipaddress.IPv4Address(pools[0]["start"])
        # Workers first, as the engine may create their ports before the control planes'.
        for index in range(8):
            port = demo.network.create_port(network_id=network.id, name=f"worker-{index}")
            made.append(port)
            address = ipaddress.IPv4Address(port.fixed_ips[0]["ip_address"])
            assert address >= start, f"DHCP gave {address}, below the pool's {start}"
        for address in fixed:
            port = demo.network.create_port(
                network_id=network.id,
                name=f"fixed-{address}",
                fixed_ips=[{"subnet_id": subnet.id, "ip_address": address}],
            )
            made.append(port)
            assert port.fixed_ips[0]["ip_address"] == address
    finally:
        for port in made:
            demo.network.delete_port(port, ignore_missing=True)
        demo.network.delete_network(network, ignore_missing=True)
