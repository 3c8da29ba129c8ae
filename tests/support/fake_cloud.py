"""An in-memory stand-in for an openstacksdk connection: the listings clean-up reads and the
deletions it makes, recorded in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from infra.ops.cloud import Cloud


@dataclass
class FakeConnection:
    """Objects by kind; `deleted` records (kind, id) in the order they were deleted."""

    load_balancers: list[Any] = field(default_factory=list)
    ips: list[Any] = field(default_factory=list)
    volumes: list[Any] = field(default_factory=list)
    networks: list[Any] = field(default_factory=list)
    ports: list[Any] = field(default_factory=list)
    clusters: list[Any] = field(default_factory=list)  # Magnum's
    services: tuple[str, ...] = ("load-balancer",)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    stuck: set[str] = field(default_factory=set)  # ids whose deletion never completes
    options: list[dict[str, Any]] = field(default_factory=list)  # keyword args of deletions

    def endpoint_for(self, service_type: str) -> str | None:
        return f"https://{service_type}.invalid" if service_type in self.services else None

    def _delete(self, kind: str, items: list[Any]) -> Any:
        def delete(item_id: str, **options: Any) -> None:
            self.deleted.append((kind, item_id))
            self.options.append(options)
            if item_id in self.stuck:
                return
            gone = [i for i in items if i.id == item_id]
            items[:] = [i for i in items if i.id != item_id]
            if kind == "load balancer":  # a cascade delete takes the VIP port with it
                vips = {i.vip_port_id for i in gone}
                self.ports[:] = [p for p in self.ports if p.id not in vips]

        return delete

    def _find(self, items: list[Any]) -> Any:
        def find(item_id: str, **_: Any) -> Any:
            return next((i for i in items if item_id in (i.id, i.name)), None)

        return find

    @property
    def load_balancer(self) -> Any:
        return SimpleNamespace(
            load_balancers=lambda: list(self.load_balancers),
            delete_load_balancer=self._delete("load balancer", self.load_balancers),
            find_load_balancer=self._find(self.load_balancers),
        )

    @property
    def network(self) -> Any:
        return SimpleNamespace(
            ips=lambda: list(self.ips),
            delete_ip=self._delete("floating IP", self.ips),
            find_ip=self._find(self.ips),
            find_network=self._find(self.networks),
            ports=lambda network_id=None: [
                p for p in self.ports if network_id is None or p.network_id == network_id
            ],
            delete_port=self._delete("port", self.ports),
            find_port=self._find(self.ports),
        )

    @property
    def container_infrastructure_management(self) -> Any:
        return SimpleNamespace(clusters=lambda: list(self.clusters))

    @property
    def block_storage(self) -> Any:
        return SimpleNamespace(
            volumes=lambda details=True: list(self.volumes),
            delete_volume=self._delete("volume", self.volumes),
            find_volume=self._find(self.volumes),
        )


def item(**fields: Any) -> SimpleNamespace:
    """One listed object; unset fields read as None, as openstacksdk's do."""
    defaults = dict.fromkeys(
        (
            "id",
            "name",
            "vip_port_id",
            "port_id",
            "description",
            "floating_ip_address",
            "metadata",
            "network_id",
            "device_id",
        ),
    )
    return SimpleNamespace(**{**defaults, **fields})


def fake_cloud(connection: FakeConnection) -> Cloud:
    return Cloud("fake", connection, retries=0)
