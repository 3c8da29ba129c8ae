"""Before `pulumi destroy`: what Kubernetes made in the project outside Pulumi's state.

The cloud controller names its load balancers `kube_service_<cluster>_<namespace>_<name>`
and describes their floating IPs as `... from cluster <cluster>`; Cinder CSI puts
`cinder.csi.openstack.org/cluster=<cluster>` in its volumes' metadata. ukdac sets the
cluster name to the stack name, so a resource belongs to a stack only when it carries that
exact name; anything else is left alone, whatever it looks like. On Magnum the cloud
controller is Magnum's, which names the cluster by its UUID: that UUID, read from Magnum by
the cluster's exact name, is the load balancers' and floating IPs' cluster name there.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.ops.cloud import Cloud, CloudError
from infra.stack.deployment import Deployment

CSI_CLUSTER_KEY = "cinder.csi.openstack.org/cluster"


@dataclass(frozen=True)
class Leftover:
    kind: str  # "load balancer", "floating IP", "volume", "port"
    id: str
    name: str
    reason: str


def magnum_cluster_id(cloud: Cloud, name: str) -> str | None:
    """The UUID of the Magnum cluster called exactly `name`, if Magnum has one."""
    if not cloud.has_service("container-infra"):
        return None
    conn = cloud.connection
    clusters = cloud.call(lambda: list(conn.container_infrastructure_management.clusters()))
    found = [c.id for c in clusters if c.name == name]
    return found[0] if len(found) == 1 else None


def find_leftovers(
    cloud: Cloud, cluster: str, network_name: str, controller_names: tuple[str, ...] = ()
) -> list[Leftover]:
    """Everything attributable to `cluster` (whose network is `network_name`); a constant
    number of listing calls. `controller_names`: the cluster's names in the cloud
    controller's own naming where it is not `cluster` (Magnum's cluster UUID)."""
    conn = cloud.connection
    found: list[Leftover] = []
    vip_ports: set[str] = set()
    live_vips: set[str] = set()  # every balancer's VIP port: not a leftover while it stands
    names = (cluster, *controller_names)
    if cloud.has_service("load-balancer"):
        prefixes = tuple(f"kube_service_{name}_" for name in names)
        for lb in cloud.call(lambda: list(conn.load_balancer.load_balancers())):
            if lb.vip_port_id:
                live_vips.add(lb.vip_port_id)
            prefix = next((p for p in prefixes if (lb.name or "").startswith(p)), None)
            if prefix:
                found.append(
                    Leftover("load balancer", lb.id, lb.name, f"name starts with {prefix}")
                )
                if lb.vip_port_id:
                    vip_ports.add(lb.vip_port_id)
    suffixes = tuple(f" from cluster {name}" for name in names)
    for ip in cloud.call(lambda: list(conn.network.ips())):
        description = ip.description or ""
        if ip.port_id in vip_ports or (
            description.startswith("Floating IP for Kubernetes external service")
            and description.endswith(suffixes)
        ):
            found.append(
                Leftover(
                    "floating IP",
                    ip.id,
                    ip.floating_ip_address,
                    description or "on a load balancer",
                )
            )
    for volume in cloud.call(lambda: list(conn.block_storage.volumes(details=True))):
        if (volume.metadata or {}).get(CSI_CLUSTER_KEY) == cluster:
            found.append(
                Leftover(
                    "volume", volume.id, volume.name or volume.id, f"{CSI_CLUSTER_KEY}={cluster}"
                )
            )
    network = cloud.call(lambda: conn.network.find_network(network_name, ignore_missing=True))
    if network is not None:
        for port in cloud.call(lambda: list(conn.network.ports(network_id=network.id))):
            name = port.name or ""
            # An unbound Octavia port whose balancer is gone. A standing balancer's VIP port
            # is not one: an OCCM balancer's goes with it (cascade), and the program's own
            # (cluster.endpoint: loadbalancer) is never touched.
            if name.startswith("octavia-lb-") and port.id not in live_vips and not port.device_id:
                found.append(
                    Leftover("port", port.id, name, f"unbound load-balancer port on {network_name}")
                )
    return found


def _wait_gone(cloud: Cloud, get: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cloud.call(get) is None:
            return
        time.sleep(1)
    raise CloudError(f"still present after {timeout:.0f} s")


def _proxy(conn: Any, kind: str) -> tuple[Callable[[str], Any], Callable[[str], Any]]:
    """(delete, find) for a kind; looked up only when needed (a cloud may lack Octavia)."""
    if kind == "load balancer":
        lb = conn.load_balancer
        return functools.partial(lb.delete_load_balancer, cascade=True), lb.find_load_balancer
    if kind == "floating IP":
        return conn.network.delete_ip, conn.network.find_ip
    if kind == "port":
        return conn.network.delete_port, conn.network.find_port
    return conn.block_storage.delete_volume, conn.block_storage.find_volume


ORDER = ("load balancer", "floating IP", "port", "volume")


def delete_leftovers(cloud: Cloud, leftovers: list[Leftover], timeout: float = 300) -> list[str]:
    """Delete in dependency order, waiting for each; returns one line per deletion."""
    done: list[str] = []
    for item in sorted(leftovers, key=lambda x: ORDER.index(x.kind)):
        delete, find = cloud.call(functools.partial(_proxy, cloud.connection, item.kind))
        cloud.call(functools.partial(delete, item.id))
        _wait_gone(cloud, functools.partial(find, item.id), timeout)
        done.append(f"deleted {item.kind} {item.name} ({item.id})")
    return done


def controller_names(cloud: Cloud, d: Deployment) -> tuple[str, ...]:
    """The cluster's other names in its cloud controller's naming: Magnum's UUID on Magnum."""
    if d.config.cluster.backend != "magnum":
        return ()
    uuid = magnum_cluster_id(cloud, d.names.magnum_cluster)
    return (uuid,) if uuid else ()
