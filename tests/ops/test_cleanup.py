"""Clean-up attribution and deletion order, against an in-memory cloud (the real one is in
tests/cloud): only what carries the stack's exact names, nothing that merely looks alike."""

from __future__ import annotations

import dataclasses

import pytest

from infra.ops.cleanup import (
    CSI_CLUSTER_KEY,
    Leftover,
    controller_names,
    delete_leftovers,
    find_leftovers,
    magnum_cluster_id,
)
from infra.ops.cloud import CloudError
from tests.support.fake_cloud import FakeConnection, fake_cloud, item
from tests.support.stacks import config

CLUSTER = "ukdac-dev"
OTHER = "ukdac-dev2"  # a neighbour whose names share a prefix with ours
SERVICE_FIP = "Floating IP for Kubernetes external service"


def _world() -> FakeConnection:
    return FakeConnection(
        load_balancers=[
            item(id="lb1", name=f"kube_service_{CLUSTER}_tap_gateway", vip_port_id="vip1"),
            item(id="lb2", name=f"kube_service_{OTHER}_tap_gateway", vip_port_id="vip2"),
            item(id="lb3", name=None),
            # The program's own API balancer (cluster.endpoint: loadbalancer), in its state.
            item(id="lb4", name=f"{CLUSTER}-api", vip_port_id="vip4"),
        ],
        ips=[
            item(id="ip1", floating_ip_address="203.0.113.1", port_id="vip1", description=""),
            item(
                id="ip2",
                floating_ip_address="203.0.113.2",
                description=f"{SERVICE_FIP} tap/x from cluster {CLUSTER}",
            ),
            item(
                id="ip3",
                floating_ip_address="203.0.113.3",
                description=f"{SERVICE_FIP} tap/x from cluster {OTHER}",
            ),
            item(id="ip4", floating_ip_address="203.0.113.4", port_id="vip2", description=None),
        ],
        volumes=[
            item(id="v1", name="pvc-1", metadata={CSI_CLUSTER_KEY: CLUSTER}),
            item(id="v2", name=None, metadata={CSI_CLUSTER_KEY: CLUSTER}),
            item(id="v3", name="pvc-3", metadata={CSI_CLUSTER_KEY: OTHER}),
            item(id="v4", name="data", metadata=None),
        ],
        networks=[item(id="net1", name=f"{CLUSTER}-net"), item(id="net2", name=f"{OTHER}-net")],
        ports=[
            item(id="p1", name="octavia-lb-abc", network_id="net1", device_id=""),
            item(id="vip1", name="octavia-lb-vip", network_id="net1", device_id=""),
            item(id="p2", name="octavia-lb-def", network_id="net1", device_id="amphora"),
            item(id="p3", name="octavia-lb-ghi", network_id="net2", device_id=""),
            item(id="p4", name="node-port", network_id="net1", device_id=""),
            item(id="p5", name=None, network_id="net1", device_id=""),
            item(id="vip4", name="octavia-lb-api", network_id="net1", device_id=""),
        ],
    )


def test_only_what_carries_the_stacks_exact_names_is_found() -> None:
    found = find_leftovers(fake_cloud(_world()), CLUSTER, f"{CLUSTER}-net")
    assert [(f.kind, f.id) for f in found] == [
        ("load balancer", "lb1"),
        ("floating IP", "ip1"),
        ("floating IP", "ip2"),
        ("volume", "v1"),
        ("volume", "v2"),
        ("port", "p1"),
    ]
    reasons = {f.id: f.reason for f in found}
    assert reasons["lb1"] == f"name starts with kube_service_{CLUSTER}_"
    assert reasons["ip1"] == "on a load balancer"
    assert reasons["v1"] == f"{CSI_CLUSTER_KEY}={CLUSTER}"
    assert reasons["p1"] == f"unbound load-balancer port on {CLUSTER}-net"
    assert {f.id: f.name for f in found}["v2"] == "v2"  # a nameless volume shows its id


def test_without_octavia_load_balancers_are_not_asked_for() -> None:
    world = _world()
    world.services = ()
    found = find_leftovers(fake_cloud(world), CLUSTER, f"{CLUSTER}-net")
    assert "load balancer" not in {f.kind for f in found}
    # The VIP's floating IP is then not known to be ours; the described one still is.
    assert [f.id for f in found if f.kind == "floating IP"] == ["ip2"]
    assert "vip1" in {f.id for f in found if f.kind == "port"}


def test_a_stack_without_its_network_has_no_ports_to_clean() -> None:
    found = find_leftovers(fake_cloud(_world()), CLUSTER, "no-such-net")
    assert "port" not in {f.kind for f in found}


def test_deletion_runs_in_dependency_order_and_waits_for_each() -> None:
    world = _world()
    cloud = fake_cloud(world)
    found = find_leftovers(cloud, CLUSTER, f"{CLUSTER}-net")
    lines = delete_leftovers(cloud, list(reversed(found)), timeout=5)
    assert [kind for kind, _ in world.deleted] == [
        "load balancer",
        "floating IP",
        "floating IP",
        "port",
        "volume",
        "volume",
    ]
    assert lines[0] == f"deleted load balancer kube_service_{CLUSTER}_tap_gateway (lb1)"
    # A load balancer goes with its listeners, pools and members (Octavia's cascade).
    assert world.options[0] == {"cascade": True}
    assert find_leftovers(cloud, CLUSTER, f"{CLUSTER}-net") == []
    assert {i.id for i in world.volumes} == {"v3", "v4"}  # the neighbour's stay


def test_a_resource_that_never_goes_is_an_error_not_a_hang() -> None:
    world = _world()
    world.stuck = {"v1"}
    stuck = Leftover("volume", "v1", "pvc-1", "test")
    with pytest.raises(CloudError, match="still present after 0 s"):
        delete_leftovers(fake_cloud(world), [stuck], timeout=0)
    assert world.deleted == [("volume", "v1")]


MAGNUM_UUID = "0c8f3ad2-5d6e-4c47-9a3e-5d1f4f1a9b21"


def test_on_magnum_the_clusters_uuid_names_what_its_cloud_controller_made() -> None:
    """Magnum's own cloud controller names load balancers and floating IPs by the cluster's
    UUID; ukdac's Cinder CSI still names volumes by the stack."""
    world = _world()
    world.services = ("load-balancer", "container-infra")
    world.clusters = [
        item(id=MAGNUM_UUID, name=f"{CLUSTER}-magnum"),
        item(id="other-uuid", name=f"{OTHER}-magnum"),
    ]
    world.load_balancers.append(
        item(id="lb4", name=f"kube_service_{MAGNUM_UUID}_tap_gateway", vip_port_id="vip4")
    )
    world.load_balancers.append(item(id="lb5", name="kube_service_other-uuid_tap_gateway"))
    world.ips.append(
        item(id="ip5", floating_ip_address="203.0.113.5", port_id="vip4", description="")
    )
    world.ips.append(
        item(
            id="ip6",
            floating_ip_address="203.0.113.6",
            description=f"{SERVICE_FIP} tap/y from cluster {MAGNUM_UUID}",
        )
    )
    cloud = fake_cloud(world)
    uuid = magnum_cluster_id(cloud, f"{CLUSTER}-magnum")
    assert uuid == MAGNUM_UUID
    assert magnum_cluster_id(cloud, f"{CLUSTER}-magnum-old") is None
    found = {f.id for f in find_leftovers(cloud, CLUSTER, f"{CLUSTER}-net", (uuid,))}
    assert {"lb4", "ip5", "ip6", "lb1", "v1"} <= found
    assert not {"lb5", "lb2", "ip3"} & found
    # Without the UUID nothing of Magnum's controller is claimed.
    assert not {"lb4", "ip5", "ip6"} & {
        f.id for f in find_leftovers(cloud, CLUSTER, f"{CLUSTER}-net")
    }


def test_without_magnum_there_is_no_uuid_to_ask_for() -> None:
    world = _world()
    world.clusters = [item(id=MAGNUM_UUID, name=f"{CLUSTER}-magnum")]
    assert magnum_cluster_id(fake_cloud(world), f"{CLUSTER}-magnum") is None


def test_only_a_magnum_stack_asks_magnum_for_its_uuid() -> None:
    world = _world()
    world.services = ("load-balancer", "container-infra")
    d = config("ukdac-dev")
    world.clusters = [item(id=MAGNUM_UUID, name=d.names.magnum_cluster)]
    cloud = fake_cloud(world)
    assert controller_names(cloud, d) == ()  # kubeadm: ukdac's own controller, its own name
    cluster = d.config.cluster.model_copy(update={"backend": "magnum"})
    on_magnum = dataclasses.replace(d, config=d.config.model_copy(update={"cluster": cluster}))
    assert controller_names(cloud, on_magnum) == (MAGNUM_UUID,)
    world.clusters = []
    assert controller_names(cloud, on_magnum) == ()  # not created yet, or already gone
