"""An OpenStack project as preflight sees it, in memory: what it holds and allows.

Only the calls preflight and holdings make, answering as openstacksdk does (objects with
attributes, None for what is missing). The real answers are checked by the cloud tier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import requests
from openstack import exceptions

from infra.ops.cloud import Cloud


@dataclass
class Limits:
    """Compute limits and use (-1: unlimited)."""

    instances: int = 20
    instances_used: int = 0
    total_cores: int = 100
    total_cores_used: int = 0
    total_ram: int = 512_000
    total_ram_used: int = 0
    server_groups: int = 10
    server_groups_used: int = 0


@dataclass
class FakeProject:
    images: set[str] = field(default_factory=set)
    flavors: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (vcpus, MB)
    external_networks: set[str] = field(default_factory=set)
    internal_networks: set[str] = field(default_factory=set)
    keypairs: dict[str, str] = field(default_factory=dict)  # name -> fingerprint
    limits: Limits = field(default_factory=Limits)
    # key -> (limit, used), or a bare limit as older Neutron answers without details
    network_quota: dict[str, tuple[int, int] | int] = field(default_factory=dict)
    volume_quota: dict[str, tuple[int, int]] = field(default_factory=dict)
    services: set[str] = field(default_factory=lambda: {"object-store"})
    servers: list[Any] = field(default_factory=list)  # what the project already runs
    buckets: set[str] = field(default_factory=set)
    ec2_refused: bool = False
    ec2_http_error: bool = False  # the POST answers, with an error status
    requests: list[tuple[str, Any]] = field(default_factory=list)  # identity (path, body)
    credentials_refused: bool = False
    rules_enforced: bool = True
    roles: set[str] = field(default_factory=lambda: {"member", "load-balancer_member"})
    # What preflight made and removed: ("ec2", id) / ("application credential", id).
    made: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    current_project_id = "project-1"
    current_user_id = "user-1"
    auth = {"auth_url": "https://keystone.invalid/v3"}  # noqa: RUF012 (read-only)

    def endpoint_for(self, service_type: str) -> str | None:
        return f"https://{service_type}.invalid" if service_type in self.services else None

    @property
    def config(self) -> Any:
        return SimpleNamespace(get_region_name=lambda: "RegionOne")

    @property
    def session(self) -> Any:
        """keystoneauth's session: its token names the user's roles on the project."""
        access = SimpleNamespace(role_names=sorted(self.roles))
        return SimpleNamespace(auth=SimpleNamespace(get_access=lambda session: access))

    @property
    def image(self) -> Any:
        def find_image(name: str, ignore_missing: bool = True) -> Any:
            return SimpleNamespace(id=f"img-{name}", name=name) if name in self.images else None

        return SimpleNamespace(find_image=find_image)

    def _flavor_objects(self) -> list[Any]:
        return [
            SimpleNamespace(id=f"fl-{name}", name=name, vcpus=vcpus, ram=ram)
            for name, (vcpus, ram) in self.flavors.items()
        ]

    @property
    def compute(self) -> Any:
        def find_keypair(name: str, ignore_missing: bool = True) -> Any:
            fingerprint = self.keypairs.get(name)
            return SimpleNamespace(name=name, fingerprint=fingerprint) if fingerprint else None

        return SimpleNamespace(
            flavors=lambda details=True: self._flavor_objects(),
            find_keypair=find_keypair,
            get_limits=lambda: SimpleNamespace(absolute=self.limits),
            servers=lambda details=True, **_: list(self.servers),
            server_groups=list,
        )

    @property
    def network(self) -> Any:
        def find_network(name: str, ignore_missing: bool = True) -> Any:
            if name in self.external_networks | self.internal_networks:
                external = name in self.external_networks
                return SimpleNamespace(id=f"net-{name}", name=name, is_router_external=external)
            return None

        def get_quota(project_id: str, details: bool = True) -> Any:
            return {
                key: value if isinstance(value, int) else {"limit": value[0], "used": value[1]}
                for key, value in self.network_quota.items()
            }

        return SimpleNamespace(
            find_network=find_network,
            get_quota=get_quota,
            networks=list,
            subnets=list,
            routers=list,
            security_groups=list,
            ports=list,
            ips=list,
        )

    @property
    def block_storage(self) -> Any:
        def get_quota_set(project_id: str, usage: bool = True) -> Any:
            quota = {k: limit for k, (limit, _) in self.volume_quota.items()}
            used = {k: used for k, (_, used) in self.volume_quota.items()}
            return SimpleNamespace(**quota, usage=used)

        return SimpleNamespace(get_quota_set=get_quota_set, volumes=lambda details=True: [])

    @property
    def object_store(self) -> Any:
        return SimpleNamespace(containers=lambda: [SimpleNamespace(name=b) for b in self.buckets])

    @property
    def identity(self) -> Any:
        def post(path: str, json: dict[str, Any]) -> Any:
            self.requests.append((path, json))
            if self.ec2_refused:
                raise exceptions.ForbiddenException("EC2 credentials are not allowed")

            def raise_for_status() -> None:
                if self.ec2_http_error:
                    raise requests.HTTPError("403 Forbidden")

            if not self.ec2_http_error:
                self.made.append(("ec2", "access-1"))
            return SimpleNamespace(
                raise_for_status=raise_for_status,
                json=lambda: {"credential": {"access": "access-1"}},
            )

        def delete(path: str) -> None:
            self.requests.append((path, None))
            self.removed.append(("ec2", path.rsplit("/", 1)[1]))

        def create_application_credential(**options: Any) -> Any:
            if self.credentials_refused:
                raise exceptions.ForbiddenException("application credentials are not allowed")
            self.requests.append(("application credential", options))
            credential = SimpleNamespace(id=f"cred-{len(self.made)}", secret="s", **options)
            self.made.append(("application credential", credential.id))
            return credential

        def delete_application_credential(user: str, credential_id: str) -> None:
            self.removed.append(("application credential", credential_id))

        return SimpleNamespace(
            post=post,
            delete=delete,
            create_application_credential=create_application_credential,
            delete_application_credential=delete_application_credential,
        )

    def as_credential(self) -> Any:
        """The connection a restricted credential gets: its calls pass if rules are enforced."""

        def servers(**_: Any) -> list[Any]:
            if not self.rules_enforced:
                raise exceptions.HttpException("Token authorization failed", http_status=401)
            return []

        return SimpleNamespace(compute=SimpleNamespace(servers=servers))


def fake_project_cloud(project: FakeProject) -> Cloud:
    return Cloud("fake", project, retries=0)
