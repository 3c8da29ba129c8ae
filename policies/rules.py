"""The policies as plain functions over a neutral view of a stack.

They run in two places: under `pulumi preview --policy-pack policies` (the pack in
`policies/__main__.py` builds the view from the engine's resources) and in pytest over the
offline plan of every stack (`policies/views.py`). Keeping them apart from the PolicyPack
lets the tests prove each one passes on every stack and fails where it must.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET_MARK = "[secret"  # noqa: S105 (the plan's mask, not a password)
# A value known only once the resource exists (a preview's computed output): the offline
# plan's mark, and what the pack puts where the engine has an unknown. Rules decide on it
# explicitly, failing closed where it could hide a violation.
UNKNOWN = "[unknown]"
WORLD = {"0.0.0.0/0", "::/0"}
INSTANCE = "openstack:compute/instance:Instance"
LETSENCRYPT_PROD = "https://acme-v02.api.letsencrypt.org/directory"
SEMVER = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")
# Keys whose string value is a credential (a mapping under such a key is a settings block, such
# as a chart's `secret: {name: ...}`, and is searched further instead).
SECRET_KEYS = re.compile(r"(password|secret|privatekey|token|kubeconfig|userdata)$", re.I)
# A vault-secrets-operator template (`{% index .Secrets "key" %}`) names a value in Vault: it is
# where a credential comes from, not the credential.
VAULT_REFERENCE = re.compile(r"^\{%[^%]*%\}$")
# An annotation (its key has a `prefix/`) naming a Secret object as `namespace/name`, such as
# ingress-nginx's `proxy-ssl-secret`: where a credential is kept, not the credential.
OBJECT_REFERENCE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    retain_on_delete: bool = False


@dataclass(frozen=True)
class StackView:
    """What a policy sees. `secrets_visible`: masked values are marked (offline plans only)."""

    stack: str
    environment: str
    admin_cidrs: tuple[str, ...]
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    secrets_visible: bool = False
    retain_visible: bool = False  # the engine does not tell a policy pack retainOnDelete
    # Logical names the stack file's `ukdac:allow` lets be replaced or deleted.
    allowed: frozenset[str] = frozenset()

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def releases(self, chart: str | None = None) -> list[Resource]:
        return [
            r
            for r in self.of_type("kubernetes:helm.sh/v3:Release")
            if chart is None or r.props.get("chart") == chart
        ]

    def custom(self, kind: str) -> list[Resource]:
        return [
            r
            for r in self.resources
            if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")
        ]


@dataclass(frozen=True)
class Violation:
    policy: str
    urn: str
    message: str


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    check: Callable[[StackView], Iterator[tuple[str, str]]]  # (urn, message)

    def run(self, view: StackView) -> list[Violation]:
        return [Violation(self.name, urn, message) for urn, message in self.check(view)]


def _is_masked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_MARK)


def _covers(props: Mapping[str, Any], port: int) -> bool:
    low, high = props.get("portRangeMin"), props.get("portRangeMax")
    return low is not None and high is not None and low <= port <= high


def _source(props: Mapping[str, Any]) -> str | None:
    """Who a rule admits: a CIDR, "group" (a remote group, known or not), None (anyone), or
    UNKNOWN (a prefix computed at apply time without a group: it cannot be checked)."""
    prefix = props.get("remoteIpPrefix")
    if props.get("remoteGroupId"):
        return "group"
    if prefix == UNKNOWN:
        return UNKNOWN
    return str(prefix) if prefix else None


def world_ingress(view: StackView) -> Iterator[tuple[str, str]]:
    for rule in view.of_type("openstack:networking/secGroupRule:SecGroupRule"):
        p = rule.props
        source = _source(p)
        if p.get("direction") != "ingress" or not (source is None or source in WORLD):
            if p.get("direction") == "ingress" and source == UNKNOWN:
                yield rule.urn, f"{rule.name}: its source is known only after apply"
            continue
        web = p.get("protocol") == "tcp" and (_covers(p, 80) or _covers(p, 443))
        narrow = p.get("portRangeMin") == p.get("portRangeMax")
        if not (web and narrow and "-ingress-" in rule.name):
            yield (
                rule.urn,
                (
                    f"{rule.name} opens {p.get('protocol')} {p.get('portRangeMin')}-"
                    f"{p.get('portRangeMax')} to the Internet; only 80 and 443 on the ingress "
                    "group may"
                ),
            )


def admin_access(view: StackView) -> Iterator[tuple[str, str]]:
    admins = {ipaddress.ip_network(c) for c in view.admin_cidrs}
    # The stack's own subnets may reach the API (a load balancer's amphorae sit there),
    # never SSH.
    own = {
        ipaddress.ip_network(s.props["cidr"])
        for s in view.of_type("openstack:networking/subnet:Subnet")
        if s.props.get("cidr") not in (None, "", UNKNOWN)
    }
    for rule in view.of_type("openstack:networking/secGroupRule:SecGroupRule"):
        p = rule.props
        if p.get("direction") != "ingress" or p.get("protocol") != "tcp":
            continue
        if not (_covers(p, 22) or _covers(p, 6443)):
            continue
        source = _source(p)
        allowed_here = admins if _covers(p, 22) else admins | own
        if source is None:
            yield rule.urn, f"{rule.name} lets anyone reach SSH or the Kubernetes API"
        elif source == UNKNOWN:
            yield rule.urn, f"{rule.name}: its source is known only after apply"
        elif source != "group" and ipaddress.ip_network(source) not in allowed_here:
            allowed = sorted(map(str, admins))
            yield (
                rule.urn,
                f"{rule.name} lets {source} reach SSH or the Kubernetes API; admins: {allowed}",
            )


def _secret_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(item, str) and item and SECRET_KEYS.search(str(key)):
                annotation_reference = "/" in str(key) and OBJECT_REFERENCE.match(item)
                if not (VAULT_REFERENCE.match(item) or annotation_reference):
                    yield child, item
            else:
                yield from _secret_leaves(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_leaves(item, f"{path}[{index}]")


def _all_masked(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_all_masked(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_masked(v) for v in value)
    return _is_masked(value) or isinstance(value, bool | int)


def credentials_secret(view: StackView) -> Iterator[tuple[str, str]]:
    if not view.secrets_visible:
        return  # the engine does not tell a policy pack which values are secret
    for secret in view.of_type("kubernetes:core/v1:Secret"):
        for key in ("stringData", "data"):
            if secret.props.get(key) and not _all_masked(secret.props[key]):
                yield secret.urn, f"{secret.name}: {key} holds credentials in plain text"
    for resource in view.resources:
        for path, value in _secret_leaves(resource.props):
            if not _all_masked(value):
                yield resource.urn, f"{resource.name}: {path} holds a credential in plain text"
    for key in ("kubeconfig", "s3AccessKey", "s3SecretKey", "cloudConf"):
        if key in view.outputs and not _is_masked(view.outputs[key]):
            yield f"output:{key}", f"stack output {key} is not a secret"


# Namespaces whose deletion deletes persistent volumes.
VOLUME_NAMESPACES = ("vault", "qserv")
# The cluster's identity: its CAs' and service-account keys (logical names end so).
IDENTITY_KEYS = ("-ca-key", "-sa-key")
# The passphrase the snapshots are encrypted with (the program's logical name).
BACKUP_PASSPHRASE = "backup-passphrase"  # noqa: S105 (a resource name)


def _control_plane(resource: Resource) -> bool:
    return (resource.props.get("metadata") or {}).get("ukdac-node-group") == "control-plane"


def _prod_data(view: StackView) -> Iterator[tuple[Resource, str]]:
    """What losing would lose prod's data (or the key to its backups)."""
    for r in view.of_type("openstack:objectstorage/container:Container"):
        yield r, "holds prod data"
    for r in [*view.releases("vault"), *view.custom("Qserv")]:
        yield r, "holds prod data"
    for r in view.of_type("kubernetes:core/v1:Namespace"):
        if (r.props.get("metadata") or {}).get("name") in VOLUME_NAMESPACES:
            yield r, "owns persistent volumes"
    for r in view.of_type("random:index/randomPassword:RandomPassword"):
        if r.name == BACKUP_PASSPHRASE:
            yield r, "decrypts every backup"


def _prod_cluster(view: StackView) -> Iterator[tuple[Resource, str]]:
    """What losing would lose prod's cluster: its members, addresses and identity."""
    control_planes = [r for r in view.of_type(INSTANCE) if _control_plane(r)]
    for r in control_planes:
        yield r, "is a control plane (replacing it loses etcd's member)"
    for r in view.of_type("openstack:networking/port:Port"):
        if any(r.name == f"{cp.name}-port" for cp in control_planes):
            yield r, "carries a control plane's fixed address"
    for r in view.of_type("openstack:networking/floatingIp:FloatingIp"):
        yield r, "is the address DNS points at"
    for r in view.of_type("tls:index/privateKey:PrivateKey"):
        if r.name.endswith(IDENTITY_KEYS):
            yield r, "is the cluster's identity"


def _prod_irreplaceable(view: StackView) -> Iterator[tuple[Resource, str]]:
    """What losing would lose prod's data or its cluster, and what it is."""
    yield from _prod_data(view)
    yield from _prod_cluster(view)


def prod_protected(view: StackView) -> Iterator[tuple[str, str]]:
    if view.environment != "prod":
        return
    for resource, why in _prod_irreplaceable(view):
        if not resource.protect and resource.name not in view.allowed:
            yield (
                resource.urn,
                (
                    f"{resource.name} {why} and must be protect=True (or its change listed in "
                    "the stack file's ukdac:allow, with a reason)"
                ),
            )


def prod_buckets_retained(view: StackView) -> Iterator[tuple[str, str]]:
    if view.environment != "prod" or not view.retain_visible:
        return
    for bucket in view.of_type("openstack:objectstorage/container:Container"):
        if not bucket.retain_on_delete:
            yield bucket.urn, f"{bucket.name} is a prod bucket and must be retained on delete"


def vault_dev_only_in_sandbox(view: StackView) -> Iterator[tuple[str, str]]:
    for release in view.releases("vault"):
        values = release.props.get("values") or {}
        dev = ((values.get("server") or {}).get("dev") or {}).get("enabled")
        if dev and view.environment != "sandbox":
            yield release.urn, f"Vault dev mode (in memory, unsealed) in {view.environment}"


def _issuer_annotations(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "cert-manager.io/cluster-issuer" and isinstance(item, str):
                yield item
            else:
                yield from _issuer_annotations(item)
    elif isinstance(value, list):
        for item in value:
            yield from _issuer_annotations(item)


def prod_real_certificates(view: StackView) -> Iterator[tuple[str, str]]:
    if view.environment != "prod":
        return
    allowed = {"letsencrypt", "letsencrypt-dns"}
    for resource in view.resources:
        for asked in _issuer_annotations(resource.props):
            if asked not in allowed:
                yield resource.urn, f"{resource.name} asks issuer {asked!r}; prod uses letsencrypt"
    for cluster_issuer in view.custom("ClusterIssuer"):
        meta = cluster_issuer.props.get("metadata") or {}
        if meta.get("name") in allowed:
            server = ((cluster_issuer.props.get("spec") or {}).get("acme") or {}).get("server")
            if server != LETSENCRYPT_PROD:
                yield (
                    cluster_issuer.urn,
                    f"ClusterIssuer {meta.get('name')} in prod must use {LETSENCRYPT_PROD}",
                )


def prod_no_auto_sync(view: StackView) -> Iterator[tuple[str, str]]:
    if view.environment != "prod":
        return
    for app in view.custom("Application"):
        automated = ((app.props.get("spec") or {}).get("syncPolicy") or {}).get("automated")
        if automated is not None:
            yield app.urn, f"{app.name}: Argo CD automatic sync is off in prod"


def charts_pinned(view: StackView) -> Iterator[tuple[str, str]]:
    for release in view.releases():
        version = str(release.props.get("version") or "")
        repo = str((release.props.get("repositoryOpts") or {}).get("repo") or "")
        if not SEMVER.match(version):
            yield release.urn, f"{release.name}: chart version {version!r} is not an exact version"
        chart = str(release.props.get("chart") or "")
        if not repo and (chart.startswith("oci://") or chart.startswith("/")):
            continue  # the stack's mirror (`ukdac:mirror.charts`): same pinned version
        if not repo.startswith("https://"):
            yield release.urn, f"{release.name}: chart repository {repo!r} is not https"


POLICIES: tuple[Policy, ...] = (
    Policy(
        "world-ingress-only-http-https",
        "Only 80/443 on the ingress group are open to the Internet.",
        world_ingress,
    ),
    Policy(
        "ssh-and-api-from-admins",
        "SSH and the Kubernetes API only from admin CIDRs and the cluster.",
        admin_access,
    ),
    Policy(
        "credentials-are-secret",
        "Every credential, key, token and kubeconfig is a Pulumi secret.",
        credentials_secret,
    ),
    Policy(
        "prod-stateful-protected",
        "Prod's data and cluster identity (buckets, Vault, Qserv, their namespaces, control "
        "planes and their ports, floating IPs, CA and service-account keys) are protect=True.",
        prod_protected,
    ),
    Policy("prod-buckets-retained", "Prod buckets are retained on delete.", prod_buckets_retained),
    Policy(
        "vault-dev-only-in-sandbox", "Vault dev mode only in sandboxes.", vault_dev_only_in_sandbox
    ),
    Policy(
        "prod-real-certificates",
        "No staging or self-signed issuer in prod.",
        prod_real_certificates,
    ),
    Policy("prod-no-auto-sync", "Argo CD does not auto-sync in prod.", prod_no_auto_sync),
    Policy(
        "charts-pinned",
        "Every Helm release pins an exact chart version from an https repository.",
        charts_pinned,
    ),
)


def run_all(view: StackView) -> list[Violation]:
    return [violation for policy in POLICIES for violation in policy.run(view)]
