"""Before `pulumi up`: does the project have what the plan needs?

Answers from a fixed set of calls (catalog, image, flavors, external network, keypair,
compute limits, network and volume quotas, one EC2 credential made and removed, the
project's buckets, and one listing per kind for what the stack already holds), so the number
of requests does not grow with the size of the stack. Quotas are checked for what is new:
planned less held. The state backend must not be a bucket of the environment's own project:
the cluster's services hold that project's EC2 credentials, which reach every bucket in it.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.ops.cloud import Cloud, CloudError, as_application_credential
from infra.ops.holdings import holdings
from infra.plan.footprint import footprint
from infra.plan.model import Plan
from infra.stack.deployment import Deployment

UNLIMITED = -1


@dataclass(frozen=True)
class Check:
    """One row: what the plan needs, what the project has, and whether that is enough."""

    name: str
    need: str
    available: str
    ok: bool


def _headroom(limit: int, used: int) -> int:
    return UNLIMITED if limit == UNLIMITED else max(limit - used, 0)


def _quota_row(name: str, planned: int, held: int, limit: int, used: int) -> Check:
    """What is new (planned less what the stack already holds) against the free quota."""
    free = _headroom(limit, used)
    need = max(planned - held, 0)
    need_shown = f"{need} ({planned} planned, {held} exist)" if held else str(need)
    shown = "unlimited" if free == UNLIMITED else str(free)
    return Check(f"quota: {name}", need_shown, shown, free == UNLIMITED or need <= free)


def _fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest())


def _value(quota: Any, key: str, part: str) -> int:
    entry = quota[key] if isinstance(quota, dict) else getattr(quota, key)
    if isinstance(entry, dict):
        return int(entry.get(part, 0) or 0)
    return int(entry) if part == "limit" else 0


def _cores_and_ram(servers: Mapping[str, int], flavors: Mapping[str, Any]) -> tuple[int, int]:
    """vCPUs and RAM (MB) of `servers` (flavor name -> count); unknown flavors count nothing."""
    known = [(flavors[name], count) for name, count in servers.items() if name in flavors]
    return (
        sum(int(flavor.vcpus) * count for flavor, count in known),
        sum(int(flavor.ram) * count for flavor, count in known),
    )


def run_preflight(
    cloud: Cloud, d: Deployment, plan: Plan, state_backend: str | None = None
) -> list[Check]:
    """Every check, failed ones included (the caller decides the exit code).

    `state_backend`: the Pulumi backend URL in use (`PULUMI_BACKEND_URL`), if known.
    """
    cfg = d.config
    needs = footprint(plan)
    conn = cloud.connection
    checks: list[Check] = []
    project_id = cloud.call(lambda: conn.current_project_id)
    user_id = cloud.call(lambda: conn.current_user_id)

    image = cloud.call(lambda: conn.image.find_image(cfg.cloud.image, ignore_missing=True))
    checks.append(
        Check(f"image {cfg.cloud.image}", "present", "found" if image else "missing", bool(image))
    )

    flavors = {f.name: f for f in cloud.call(lambda: list(conn.compute.flavors(details=True)))}
    held = holdings(cloud, plan, {f.id: f.name for f in flavors.values()})
    cores, ram = _cores_and_ram(needs.flavors, flavors)
    held_cores, held_ram = _cores_and_ram(held.flavors, flavors)
    for name, count in sorted(needs.flavors.items()):
        flavor = flavors.get(name)
        checks.append(
            Check(
                f"flavor {name}",
                f"{count} server(s)",
                "found" if flavor else "missing",
                bool(flavor),
            )
        )

    network = cloud.call(
        lambda: conn.network.find_network(cfg.cloud.external_network, ignore_missing=True)
    )
    external = bool(network) and bool(getattr(network, "is_router_external", False))
    shown = "external" if external else ("not external" if network else "missing")
    checks.append(
        Check(f"external network {cfg.cloud.external_network}", "external", shown, external)
    )

    keypair_name = d.names.keypair
    keypair = cloud.call(lambda: conn.compute.find_keypair(keypair_name, ignore_missing=True))
    if keypair is None:
        checks.append(
            Check(f"keypair {keypair_name}", "absent or same key", "absent (will be created)", True)
        )
    else:
        same = keypair.fingerprint == _fingerprint(cfg.cloud.keypair_public_key)
        checks.append(
            Check(
                f"keypair {keypair_name}",
                "absent or same key",
                "same key" if same else "another key",
                same,
            )
        )

    limits = cloud.call(conn.compute.get_limits).absolute
    checks += [
        _quota_row(
            "instances", needs.instances, held.instances, limits.instances, limits.instances_used
        ),
        _quota_row("cores", cores, held_cores, limits.total_cores, limits.total_cores_used),
        _quota_row("ram (MB)", ram, held_ram, limits.total_ram, limits.total_ram_used),
        _quota_row(
            "server groups",
            needs.server_groups,
            held.server_groups,
            limits.server_groups,
            limits.server_groups_used,
        ),
    ]
    net = cloud.call(lambda: conn.network.get_quota(project_id, details=True))
    for label, key in (
        ("floating IPs", "floating_ips"),
        ("networks", "networks"),
        ("subnets", "subnets"),
        ("routers", "routers"),
        ("ports", "ports"),
        ("security groups", "security_groups"),
        ("security group rules", "security_group_rules"),
    ):
        checks.append(
            _quota_row(
                label,
                getattr(needs, key),
                getattr(held, key),
                _value(net, key, "limit"),
                _value(net, key, "used"),
            )
        )
    volume = cloud.call(lambda: conn.block_storage.get_quota_set(project_id, usage=True))
    usage = getattr(volume, "usage", None) or {}
    for label, key in (("volumes", "volumes"), ("gigabytes", "gigabytes")):
        limit = int(getattr(volume, key))
        used = int(usage.get(key, 0) or 0)
        checks.append(_quota_row(label, getattr(needs, key), getattr(held, key), limit, used))

    if cfg.cluster.backend == "magnum":
        has_magnum = cloud.has_service("container-infra")
        checks.append(
            Check("Magnum service", "in catalog", "found" if has_magnum else "missing", has_magnum)
        )

    if cfg.cluster.backend == "kubeadm" and cfg.cluster.endpoint == "loadbalancer":
        has_octavia = cloud.has_service("load-balancer")
        checks.append(
            Check(
                "load balancer service",
                "in catalog (cluster.endpoint: loadbalancer)",
                "found" if has_octavia else "missing: set cluster.endpoint: floating-ip",
                has_octavia,
            )
        )

    has_objects = cloud.has_service("object-store")
    checks.append(
        Check("object store", "in catalog", "found" if has_objects else "missing", has_objects)
    )
    checks.append(_roles_check(cloud, cfg.cloud.application_credential_roles))
    checks.append(_ec2_check(cloud, user_id, project_id))
    if cfg.cloud.application_credential_access_rules:
        checks.append(_access_rules_check(cloud, user_id))
    checks.append(_state_check(cloud, state_backend, has_objects))
    return checks


def _roles_check(cloud: Cloud, wanted: list[str]) -> Check:
    """The cluster's application credential can carry only roles its maker holds on the
    project (Keystone refuses the rest: "Role ... is not defined" or not assigned)."""
    conn = cloud.connection
    access = cloud.call(lambda: conn.session.auth.get_access(conn.session))
    held = set(access.role_names or ())
    missing = [role for role in wanted if role not in held]
    available = (
        "all held"
        if not missing
        else f"not held: {', '.join(missing)} (ask the cloud's admins, or change "
        "cloud.applicationCredentialRoles)"
    )
    return Check("credential roles", ", ".join(wanted), available, not missing)


def _state_check(cloud: Cloud, backend: str | None, has_objects: bool) -> Check:
    name, need = "state backend", "outside this project"
    if not backend:
        return Check(name, need, "PULUMI_BACKEND_URL unset: not checked", True)
    url = urlsplit(backend)
    if url.scheme == "file":
        return Check(name, need, f"local state ({backend}): use the shared backend", False)
    if url.scheme != "s3" or not has_objects:
        return Check(name, need, f"{url.scheme}:// backend, not in this object store", True)
    conn = cloud.connection
    buckets = {c.name for c in cloud.call(lambda: list(conn.object_store.containers()))}
    if url.netloc in buckets:
        return Check(name, need, f"bucket {url.netloc} is in this project", False)
    return Check(name, need, f"bucket {url.netloc} is not in this project", True)


def _ec2_check(cloud: Cloud, user_id: str, project_id: str) -> Check:
    """Make an EC2 credential and remove it: proves the S3 keys can be created."""
    identity = cloud.connection.identity
    try:
        response = cloud.call(
            lambda: identity.post(
                f"/users/{user_id}/credentials/OS-EC2", json={"tenant_id": project_id}
            )
        )
        response.raise_for_status()
        access = response.json()["credential"]["access"]
        cloud.call(lambda: identity.delete(f"/users/{user_id}/credentials/OS-EC2/{access}"))
    except (CloudError, KeyError, ValueError) as error:
        return Check("EC2 credentials", "can be created", f"refused: {error}", False)
    except Exception as error:  # an HTTP error from raise_for_status
        return Check("EC2 credentials", "can be created", f"refused: {error}", False)
    return Check("EC2 credentials", "can be created", "created and removed", True)


# The probe: the smallest rule OCCM's own rules contain.
_PROBE_RULE = {"service": "compute", "method": "GET", "path": "/v2.1/**"}


def _access_rules_check(cloud: Cloud, user_id: str) -> Check:
    """Make an application credential limited by an access rule, call what the rule allows
    with it, remove it: proves the cloud's services validate access rules (a service whose
    middleware has no `service_type` refuses every such request)."""
    name, need = "access rules", "enforced by compute"
    conn = cloud.connection
    try:
        credential = cloud.call(
            lambda: conn.identity.create_application_credential(
                user=user_id,
                name=f"ukdac-preflight-{uuid.uuid4().hex[:8]}",
                access_rules=[_PROBE_RULE],
            )
        )
    except CloudError as error:
        return Check(name, need, f"cannot make an application credential: {error}", False)
    try:
        restricted = as_application_credential(conn, credential.id, credential.secret)
        cloud.call(lambda: list(restricted.compute.servers(details=False, limit=1)))
    except CloudError as error:
        return Check(
            name,
            need,
            f"refused ({error}): set cloud.applicationCredentialAccessRules: false",
            False,
        )
    finally:
        cloud.call(lambda: conn.identity.delete_application_credential(user_id, credential.id))
    return Check(name, need, "a restricted credential made a call it allows", True)
