"""The stack configuration model: every key a stack file may set under `ukdac:`.

The JSON Schema generated from these models is the reference documentation of a stack file,
so every field has a title and a description. Values a stack file does not set come from its
environment profile (`infra/stack/profiles.py`); cross-field rules live in `infra/stack/rules.py`.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from infra.versions import SUPPORTED_KUBERNETES_MINORS

Environment = Literal["sandbox", "dev", "test", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("sandbox", "dev", "test", "prod")

# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------

_DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"

# What each pattern below means, for error messages (a regex is not an explanation).
PATTERN_HELP: dict[str, str] = {}

# Settings that existed once, and what replaced them: a stack file that still sets one is
# told what to do instead of only that the key is unknown.
RETIRED_KEYS: dict[tuple[str | int, ...], str] = {
    ("buckets", "credentialsNamespace"): (
        "TAP reads its S3 keys from Vault, like every phalanx secret; write them with "
        "`ukdac secrets STACK --phalanx-dir FORK --static-secrets FILE` and "
        "`phalanx secrets sync --secrets FILE`, then remove this key"
    ),
}


def _pattern(regex: str, meaning: str) -> StringConstraints:
    PATTERN_HELP[regex] = meaning
    return StringConstraints(pattern=regex)


DnsLabel = Annotated[
    str,
    _pattern(
        rf"^{_DNS_LABEL}$",
        "must be a DNS label: lower-case letters, digits and '-', at most 63 characters, "
        "not starting or ending with '-'",
    ),
]


# Names made by putting a prefix before the fqdn: ukdac's Vault, and nublado's lab hosts
# and their wildcard certificate with `phalanx.nubladoSubdomains` (each user's lab is a
# further label, which nublado keeps short). DNS names have at most 253 characters.
DERIVED_PREFIXES = ("vault.", "nb.", "*.nb.")
MAX_FQDN = 253 - max(len(prefix) for prefix in DERIVED_PREFIXES)


def _check_hostname(value: str) -> str:
    if len(value) > 253:
        raise ValueError("a DNS name has at most 253 characters")
    labels = value.split(".")
    if len(labels) < 2 or not all(re.fullmatch(_DNS_LABEL, label) for label in labels):
        raise ValueError(
            "must be a fully qualified DNS name in lower case, such as 'rsp.lsst.ac.uk' "
            "(labels of letters, digits and '-', separated by dots)"
        )
    if labels[-1].isdigit():
        raise ValueError("the last label of a DNS name (its top-level domain) is not a number")
    if len(value) > MAX_FQDN:
        raise ValueError(
            f"at most {MAX_FQDN} characters, so that every name derived from it "
            "(such as vault.<fqdn>) stays within DNS's 253"
        )
    return value


Hostname = Annotated[str, AfterValidator(_check_hostname)]


def _check_url(schemes: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        match = re.fullmatch(r"([a-z][a-z0-9+.-]*)://([^/\s:]+)(:\d{1,5})?(/[^\s]*)?", value)
        if not match or match.group(1) not in schemes:
            raise ValueError(
                f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        host = match.group(2)
        if re.fullmatch(r"[0-9.]+", host):
            try:
                IPv4Address(host)
            except ValueError:
                raise ValueError(
                    f"host {host} is neither an IPv4 address (four numbers 0-255) nor a DNS name"
                ) from None
        elif host != "localhost":
            _check_hostname(host)
        if match.group(3) and not 0 < int(match.group(3)[1:]) <= 65535:
            raise ValueError(f"port {match.group(3)[1:]} is not a TCP port (1 to 65535)")
        return value.rstrip("/")

    return AfterValidator(check)


HttpsUrl = Annotated[str, _check_url(("https",))]


def _check_vault_path(value: str) -> str:
    segment = r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?"
    if not re.fullmatch(rf"{segment}(/{segment})*", value):
        raise ValueError(
            "must be a Vault KV path such as 'secret/phalanx/ukidacdev': segments of "
            "lower-case letters, digits, '_' and '-', separated by single '/', no empty "
            "segment and no leading or trailing '/'"
        )
    return value


VaultPath = Annotated[str, AfterValidator(_check_vault_path)]


def _check_nameserver(value: IPv4Address) -> IPv4Address:
    kinds = (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address (each node's own)"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
    )
    for check, what in kinds:
        if getattr(value, check):
            raise ValueError(
                f"{value} is {what}: it cannot answer a node's DNS queries; give a resolver's "
                "address"
            )
    return value


Nameserver = Annotated[IPv4Address, AfterValidator(_check_nameserver)]


def _check_revision(value: str) -> str:
    """A git branch, tag or commit as `git check-ref-format` allows it, and no option."""
    bad = (
        not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value)
        or ".." in value
        or "//" in value
        or value.endswith((".", "/", ".lock"))
        or "/." in value
        or len(value) > 200
    )
    if bad:
        raise ValueError(
            "must be a git branch, tag or commit: letters, digits, '.', '_', '-', '/', "
            "starting with a letter or digit, without '..', '//' or a trailing '.', '/' "
            "or '.lock'"
        )
    return value


GitRevision = Annotated[str, AfterValidator(_check_revision)]
HttpUrl = Annotated[str, _check_url(("https", "http"))]

_SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)


def _check_ssh_public_key(value: str) -> str:
    if "\n" in value.strip() or "\r" in value:
        raise ValueError(
            "must be one key on one line (every line would land in authorized_keys); "
            "give the one key nodes should trust"
        )
    parts = value.strip().split()
    if len(parts) < 2 or parts[0] not in _SSH_KEY_TYPES:
        raise ValueError(
            f"must be an OpenSSH public key ('<type> <base64> [comment]', type one of "
            f"{', '.join(_SSH_KEY_TYPES)})"
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise ValueError("the key's base64 part does not decode") from None
    declared = blob[4 : 4 + int.from_bytes(blob[:4], "big")].decode(errors="replace")
    if len(blob) < 20 or not declared:
        raise ValueError("the key's base64 part is not an OpenSSH public key (truncated?)")
    if declared != parts[0]:
        raise ValueError(f"the key blob says '{declared}' but the line says '{parts[0]}'")
    return value.strip()


SshPublicKey = Annotated[str, AfterValidator(_check_ssh_public_key)]

Quantity = Annotated[
    str,
    _pattern(
        r"^[1-9][0-9]*(Mi|Gi|Ti)$",
        "must be a Kubernetes storage quantity in Mi, Gi or Ti, such as '100Gi'",
    ),
]

ImageRef = Annotated[
    str,
    _pattern(
        r"^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
        r"(@sha256:[a-f0-9]{64})?$",
        "must be a container image with an explicit tag, such as 'registry/name:1.2.3' "
        "(optionally '@sha256:<digest>')",
    ),
]

_LABEL_PREFIX = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LabelKey = Annotated[
    str,
    _pattern(
        rf"^{_LABEL_PREFIX}{_LABEL_NAME}$",
        "must be a Kubernetes label key: an optional DNS prefix and '/', then up to 63 "
        "letters, digits, '-', '_' or '.'",
    ),
]
LabelValue = Annotated[
    str,
    _pattern(
        rf"^({_LABEL_NAME})?$",
        "must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', "
        "starting and ending alphanumeric",
    ),
]


def _check_kubernetes_version(value: str) -> str:
    minor = ".".join(value.split(".")[:2])
    if minor not in SUPPORTED_KUBERNETES_MINORS:
        raise ValueError(
            f"Kubernetes {minor} is not supported; supported minors: "
            f"{', '.join(SUPPORTED_KUBERNETES_MINORS)}"
        )
    return value


KubernetesVersion = Annotated[
    str,
    _pattern(r"^1\.[0-9]+\.[0-9]+$", "must be an exact Kubernetes release such as '1.35.3'"),
    AfterValidator(_check_kubernetes_version),
]

# A secret may only come from a `secure:` value in the stack file (`pulumi config set --secret`).
Secret = Annotated[
    SecretStr,
    WithJsonSchema(
        {
            "type": "object",
            "title": "Secret",
            "description": "An encrypted value: set it with `pulumi config set --secret`.",
            "properties": {"secure": {"type": "string"}},
            "required": ["secure"],
            "additionalProperties": False,
        }
    ),
]

# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys rejected, immutable.

    Validators are built when a model first validates, not when this module is imported:
    a command validates a few sections (each section's validator carries its nested models),
    not every model on its own as well.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        extra="forbid",
        frozen=True,
        defer_build=True,
    )


class CloudConfig(Section):
    """Where the environment lives on OpenStack."""

    name: str = Field(
        title="clouds.yaml entry",
        description="The clouds.yaml entry with the credentials of the environment's project "
        "(OS_CLOUD overrides it for the tooling).",
        min_length=1,
    )
    region: str = Field(title="Region", description="The OpenStack region name.", min_length=1)
    external_network: str = Field(
        title="External network",
        description="Name of the provider network that floating IPs come from.",
        min_length=1,
    )
    image: str = Field(
        title="Node image",
        description="Glance image name of the Ubuntu LTS image every node boots.",
        min_length=1,
    )
    dns_nameservers: list[Nameserver] = Field(
        title="DNS nameservers",
        description="Resolvers handed to nodes by the subnet's DHCP.",
        min_length=1,
        max_length=5,
    )
    admin_cidrs: list[IPvAnyNetwork] = Field(
        title="Admin CIDRs",
        description="Who may reach SSH and the Kubernetes API. Never the whole Internet.",
        min_length=1,
        max_length=32,
    )
    keypair_public_key: SshPublicKey = Field(
        title="Keypair public key",
        description="OpenSSH public key installed for the default user of every node.",
    )
    application_credential_roles: list[str] = Field(
        default=["member", "load-balancer_member"],
        title="Application credential roles",
        description="Roles of the cluster's own credential (OCCM and Cinder CSI); the "
        "operator's user must hold them.",
        min_length=1,
        max_length=10,
    )
    application_credential_access_rules: bool = Field(
        default=True,
        strict=True,
        title="Application credential access rules",
        description="Limit the cluster's own credential to the API calls OCCM and Cinder CSI "
        "make. Needs services whose middleware validates access rules (`service_type` set); "
        "`ukdac preflight` checks that the cloud's do.",
    )


class NetworkConfig(Section):
    """Address plan of the cluster: three IPv4 ranges that must not overlap."""

    node_cidr: IPv4Network = Field(
        title="Node CIDR", description="Subnet of the nodes' ports on the private network."
    )
    pod_cidr: IPv4Network = Field(
        title="Pod CIDR", description="Range the CNI allocates pod addresses from."
    )
    service_cidr: IPv4Network = Field(
        title="Service CIDR", description="Range of Kubernetes Service cluster IPs."
    )


class Taint(Section):
    """A Kubernetes taint put on every node of a node group."""

    key: LabelKey = Field(title="Key", description="Taint key.")
    value: LabelValue = Field(default="", title="Value", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        title="Effect", description="What the taint does to pods that do not tolerate it."
    )


class NodeGroup(Section):
    """A set of identical worker nodes."""

    name: DnsLabel = Field(title="Name", description="Node-group name, unique in the cluster.")
    flavor: str = Field(title="Flavor", description="Nova flavor of the nodes.", min_length=1)
    count: int = Field(title="Count", description="Number of nodes.", ge=0, le=200, strict=True)
    labels: dict[LabelKey, LabelValue] = Field(
        default={},
        title="Labels",
        description="Kubernetes labels of the nodes (kubeadm). Magnum cannot set them: ukdac "
        "then selects the group's nodes by their `magnum.openstack.org/role` label.",
    )
    taints: list[Taint] = Field(
        default=[],
        title="Taints",
        description="Kubernetes taints of the nodes (kubeadm only).",
        max_length=16,
    )
    generation: int = Field(
        default=1,
        strict=True,
        ge=1,
        le=999,
        title="Generation",
        description="The wave the group's nodes belong to (kubeadm). A running node never "
        "changes when the recipe for new nodes does (image, flavor, Kubernetes version, user "
        "data); raising the generation brings up a new wave of nodes, with new names, from "
        "today's recipe and retires the old wave: the deliberate way to renew a group.",
    )
    retiring: int = Field(
        default=0,
        strict=True,
        ge=0,
        le=200,
        title="Retiring nodes",
        description="Nodes of the previous generation still running during a rollout: the "
        "first `retiring` of them stay while the new wave joins. Raise `generation` with "
        "`retiring` set to the old count, drain the old nodes, then lower it to 0, in steps "
        "if you want less surge (docs/runbooks/upgrade.md).",
    )


class ControlPlane(Section):
    """The control-plane nodes (etcd members): an odd count keeps quorum."""

    flavor: str = Field(title="Flavor", description="Nova flavor.", min_length=1)
    count: Literal[1, 3, 5] = Field(title="Count", description="Number of control-plane nodes.")


class MagnumOptions(Section):
    """Settings used only by the Magnum backend."""

    master_lb_enabled: bool = Field(
        default=True,
        strict=True,
        title="Master load balancer",
        description="Put an Octavia load balancer (with a floating IP) in front of the masters; "
        "it applies cloud.adminCidrs to the API, and no node then gets a floating IP of its "
        "own. Without it Magnum gives every node a floating IP and opens the API to all.",
    )
    create_timeout_minutes: int = Field(
        default=60,
        strict=True,
        title="Create timeout (minutes)",
        description="How long Magnum may take to create the cluster.",
        ge=10,
        le=360,
    )


class ClusterConfig(Section):
    """The Kubernetes cluster: backend, version, network plugin and nodes."""

    backend: Literal["kubeadm", "magnum"] = Field(
        title="Backend",
        description="kubeadm on Nova instances via cloud-init (default), or an OpenStack Magnum "
        "cluster.",
    )
    kubernetes_version: KubernetesVersion = Field(
        title="Kubernetes version", description="Exact Kubernetes release, such as '1.35.3'."
    )
    cni: Literal["calico", "cilium"] = Field(title="CNI", description="The pod network plugin.")
    endpoint: Literal["floating-ip", "loadbalancer"] = Field(
        title="Entry point",
        description="How the API (6443) and the ingress (80, 443) are reached (kubeadm): "
        "`floating-ip` on control plane 0's port (one control plane carries everything), "
        "or `loadbalancer`, an Octavia load balancer over every control plane with the "
        "floating IP on its VIP, which survives the loss of any one of them.",
    )
    control_plane: ControlPlane = Field(title="Control plane", description="Control-plane nodes.")
    node_groups: list[NodeGroup] = Field(
        title="Node groups", description="Worker node groups.", min_length=1, max_length=20
    )
    boot_volume_size: int | None = Field(
        default=None,
        strict=True,
        title="Boot volume size (GiB)",
        description="Boot every node from a Cinder volume of this size; unset uses the "
        "flavor's ephemeral disk.",
        ge=10,
        le=2000,
    )
    magnum: MagnumOptions = Field(
        default=MagnumOptions(),
        title="Magnum options",
        description="Settings of the Magnum backend (ignored by kubeadm).",
    )
    kubeconfig: Secret | None = Field(
        default=None,
        title="Kubeconfig override",
        description="The platform layer's cluster, as a kubeconfig (secure value, certificates "
        "inline): set it to apply cert-manager, Vault, Argo CD and the rest to a cluster ukdac "
        "did not make (one made by Magnum or Cluster API elsewhere, a rebuilt control plane) "
        "instead of the one the backend makes. Unset, the backend's kubeconfig is used.",
    )


class Rfc2136Solver(Section):
    """DNS-01 challenges answered by dynamic DNS updates (RFC 2136) signed with a TSIG key."""

    nameserver: str = Field(
        title="Nameserver",
        description="Address and port of the authoritative server, such as '192.0.2.53:53'.",
        pattern=r"^[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}$",
    )
    tsig_key_name: str = Field(title="TSIG key name", description="Name of the TSIG key.")
    tsig_algorithm: Literal["HMACSHA256", "HMACSHA512"] = Field(
        default="HMACSHA256", title="TSIG algorithm", description="TSIG HMAC algorithm."
    )
    tsig_secret: Secret = Field(
        title="TSIG secret", description="The TSIG key (base64), as a `secure:` value."
    )


class TlsConfig(Section):
    """How certificates for the environment's hostnames are issued."""

    issuer: Literal["selfsigned", "letsencrypt-staging", "letsencrypt"] = Field(
        title="Issuer", description="cert-manager ClusterIssuer used for every Ingress."
    )
    acme_email: str | None = Field(
        default=None,
        title="ACME email",
        description="Contact address registered with Let's Encrypt.",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    )
    solver: Literal["http01", "dns01"] = Field(
        default="http01",
        title="ACME solver",
        description="HTTP-01 through the nginx ingress class, or DNS-01 (needs `dns01`).",
    )
    dns01: Rfc2136Solver | None = Field(
        default=None, title="DNS-01 solver", description="Settings of the DNS-01 solver."
    )


class VaultAppRole(Section):
    """A Vault AppRole that may read the environment's secrets (vault-secrets-operator's)."""

    role_id: Secret = Field(title="Role ID", description="The AppRole's role ID (`secure:`).")
    secret_id: Secret = Field(
        title="Secret ID", description="A secret ID of the AppRole (`secure:`)."
    )


class VaultConfig(Section):
    """The environment's Vault server, which phalanx reads its secrets from."""

    mode: Literal["dev", "standalone", "ha"] = Field(
        title="Mode",
        description="'dev' (in memory, sandboxes only), 'standalone' (one server with a "
        "volume) or 'ha' (3 replicas, integrated raft storage).",
    )
    url: HttpsUrl | None = Field(
        default=None,
        title="URL",
        description="Vault URL phalanx uses; unset means https://vault.<fqdn>.",
    )
    path_prefix: VaultPath | None = Field(
        default=None,
        title="KV path prefix",
        description="Where phalanx's secrets live; unset means secret/phalanx/<phalanx env>.",
    )
    read_credentials: VaultAppRole | None = Field(
        default=None,
        title="Read credentials",
        description="The AppRole vault-secrets-operator reads phalanx's secrets with (`phalanx "
        "vault create-read-approle`). Until it is set, the stack stops before phalanx: no "
        "vault-secrets-operator, Argo CD or app of apps.",
    )
    allowed_cidrs: list[IPvAnyNetwork] | None = Field(
        default=None,
        title="Allowed CIDRs",
        description="Who may reach vault.<fqdn>; unset means the admin CIDRs, so an "
        "uninitialised Vault is never open to the Internet. Opening it wider is an "
        "explicit, reviewed choice (never for a sandbox or dev-mode Vault).",
        max_length=32,
    )


GafaelfawrScope = Annotated[
    str,
    _pattern(
        r"^[a-z]+:[a-z][a-z-]*$",
        "must be a Gafaelfawr scope such as 'exec:notebook' or 'read:tap'",
    ),
]
GitHubTeam = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[a-z0-9][a-z0-9_-]{0,99}$",
        "must be '<organisation>/<team slug>', such as 'lsp-uk/dev'",
    ),
]
GroupName = Annotated[str, _pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", "must be a group name")]
ClientId = Annotated[
    str,
    _pattern(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$", "must be an OAuth client ID"),
]
Username = Annotated[str, _pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "must be a username")]


class GitHubLogin(Section):
    """Login through a GitHub OAuth app; scopes granted by GitHub team membership."""

    client_id: ClientId = Field(
        title="Client ID", description="Client ID of the GitHub OAuth app of this hostname."
    )
    teams: dict[GitHubTeam, list[GafaelfawrScope]] = Field(
        title="Scopes by team",
        description="Each '<organisation>/<team>' and the Gafaelfawr scopes its members get.",
        min_length=1,
        max_length=64,
    )


class CILogonLogin(Section):
    """Login through CILogon (OpenID Connect); scopes granted by group membership."""

    client_id: ClientId = Field(title="Client ID", description="CILogon client ID.")
    groups: dict[GroupName, list[GafaelfawrScope]] = Field(
        title="Scopes by group",
        description="Each group and the Gafaelfawr scopes its members get.",
        min_length=1,
        max_length=64,
    )


class Identity(Section):
    """Who may log in to the Science Platform (Gafaelfawr's identity provider)."""

    github: GitHubLogin | None = Field(
        default=None, title="GitHub", description="GitHub OAuth, as UKDAC has used."
    )
    cilogon: CILogonLogin | None = Field(
        default=None, title="CILogon", description="CILogon, for federated identities."
    )
    initial_admins: list[Username] = Field(
        default_factory=list,
        title="Initial administrators",
        description="Usernames Gafaelfawr makes administrators on first start.",
        max_length=64,
    )


class PhalanxConfig(Section):
    """The phalanx fork Argo CD deploys the Rubin Science Platform from."""

    repository: HttpsUrl = Field(title="Repository", description="Git URL of the phalanx fork.")
    revision: GitRevision = Field(
        title="Revision",
        description="Branch, tag or commit Argo CD tracks.",
    )
    environment: DnsLabel = Field(
        title="Phalanx environment",
        description="Name of the phalanx environment (values-<name>.yaml).",
    )
    app_of_apps_name: DnsLabel = Field(
        title="App-of-apps name", description="Name of the Argo CD app-of-apps Application."
    )
    auto_sync: bool = Field(
        title="Automatic sync",
        description="Whether Argo CD syncs the app of apps by itself.",
        strict=True,
    )
    nublado_subdomains: bool = Field(
        default=False,
        strict=True,
        title="Nublado subdomains",
        description="Serve each user's lab at its own `*.nb.<fqdn>` name (nublado's "
        "`hub.useSubdomains`); the wildcard certificate needs a DNS-01 solver.",
    )
    identity: Identity | None = Field(
        default=None,
        title="Identity provider",
        description="Gafaelfawr's login; written into phalanx's gafaelfawr values. Needed "
        "for an environment the fork has no gafaelfawr values for yet.",
    )


class QservReplicas(Section):
    """Replicas and per-replica storage of one Qserv tier."""

    replicas: int = Field(
        title="Replicas", description="Number of pods.", ge=1, le=100, strict=True
    )
    storage: Quantity = Field(title="Storage", description="Volume size of each pod.")


class QservConfig(Section):
    """The Qserv database (qserv-operator and its `Qserv` resource)."""

    enabled: bool = Field(title="Enabled", description="Whether Qserv is deployed.", strict=True)
    image: ImageRef = Field(title="Qserv image", description="Image of the Qserv services.")
    db_image: ImageRef = Field(title="Database image", description="MariaDB image of Qserv.")
    czar: QservReplicas = Field(title="Czar", description="The query front end.")
    worker: QservReplicas = Field(title="Workers", description="The data-holding workers.")
    storage: Quantity = Field(
        title="Services storage",
        description="Volume size of each of Qserv's service pods: the ingest and replication "
        "databases and the replication controller (the operator's top-level `storage`).",
    )
    ingest_node_label: str = Field(
        title="Ingest node label",
        description="'key=value' node label the ingest and xrootd pods prefer; some node "
        "group must carry it.",
        pattern=rf"^{_LABEL_PREFIX}{_LABEL_NAME}=({_LABEL_NAME})?$",
    )


class Bucket(Section):
    """One object-store bucket (a Swift container on Ceph RGW, reachable over S3)."""

    name: DnsLabel = Field(
        title="Name", description="Short name; the container is named <stack>-<name>."
    )
    retain: bool | None = Field(
        default=None,
        strict=True,
        title="Retain on destroy",
        description="Keep the container when the stack is destroyed; unset follows "
        "`retainByDefault`.",
    )


class BucketsConfig(Section):
    """Object storage of the environment."""

    s3_endpoint: HttpUrl = Field(title="S3 endpoint", description="RGW's S3 endpoint URL.")
    retain_by_default: bool = Field(
        title="Retain by default",
        description="Retention of buckets that do not say.",
        strict=True,
    )
    containers: list[Bucket] = Field(
        default=[], title="Buckets", description="The buckets to create.", max_length=20
    )
    tap_bucket: DnsLabel | None = Field(
        default=None,
        title="TAP results bucket",
        description="Which bucket holds TAP async results; unset uses the first bucket.",
    )


class BackupsConfig(Section):
    """Scheduled etcd and Vault snapshots, encrypted, in a bucket of the environment."""

    enabled: bool = Field(
        title="Enabled",
        description="Take the snapshots: etcd's (kubeadm) and Vault's (raft, `vault.mode: ha`).",
        strict=True,
    )
    bucket: DnsLabel = Field(
        default="backups",
        title="Bucket",
        description="The bucket they go to (made and retained by ukdac; named `<stack>-<bucket>`).",
    )
    schedule: str = Field(
        default="17 2 * * *",
        title="Schedule",
        description="When, as a cron expression in UTC (five fields).",
        pattern=r"^(\S+\s+){4}\S+$",
        max_length=100,
    )
    retention_days: int = Field(
        default=14,
        strict=True,
        ge=1,
        le=365,
        title="Retention (days)",
        description="Snapshots older than this are deleted after each new one is stored.",
    )


class SandboxConfig(Section):
    """Who owns a developer sandbox and when it may be reaped."""

    owner: str = Field(
        title="Owner", description="Username or email of the developer.", min_length=1
    )
    expires: date = Field(title="Expires", description="Date after which the sandbox is reaped.")


class AllowedChange(Section):
    """One change to a protected resource the stack file allows, and why."""

    resource: str = Field(
        title="Resource",
        description="The resource's logical name as the plan shows it, such as "
        "`cluster-control-plane-1`.",
        pattern=r"^[a-z0-9][a-z0-9-]{0,99}$",
    )
    change: Literal["replace", "delete"] = Field(
        title="Change",
        description="`replace` goes through in the same `up`; `delete` needs one `up` with the "
        "allowance (it lifts the protection) before the one that removes the resource.",
    )
    reason: str = Field(
        title="Reason",
        description="Why, for the review and the record (a ticket, a fault).",
        min_length=10,
        max_length=300,
    )


class MirrorConfig(Section):
    """Where charts and downloaded files come from when the Internet is out of reach."""

    charts: str | None = Field(
        default=None,
        title="Chart mirror",
        description="Helm charts from here instead of their repositories: an absolute "
        "directory holding each chart as `<name>-<version>.tgz` (what `helm pull` writes) or "
        "unpacked as `<name>-<version>/`, or an OCI registry path `oci://host/path` holding "
        "`<name>` at each pinned version. The pinned versions are unchanged.",
        pattern=r"^(/[^\s]*|oci://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._/-]*)?)$",
    )
    files: str | None = Field(
        default=None,
        title="File mirror",
        description="Manifests and node downloads (Qserv's operator, Calico, the Cilium CLI) "
        "from here: a URL prefix (`https://...`, or `file:///...` for what the program "
        "itself reads) under which each file sits at `<host>/<path>` of its upstream URL. "
        "The sha256 pins are unchanged: a file that differs is refused.",
        pattern=r"^(https://|file:///)[^\s]*[^/\s]$",
    )


class StackConfig(Section):
    """Everything under the `ukdac:` namespace of a stack file, after profile defaults."""

    environment: Environment = Field(
        title="Environment",
        description="The environment profile whose defaults apply: sandbox, dev, test or prod.",
    )
    fqdn: Hostname = Field(
        title="FQDN",
        description="The environment's hostname; every other hostname is derived from it.",
    )
    layers: Literal["all", "cloud"] = Field(
        default="all",
        title="Layers",
        description="What the stack declares: `all`, or `cloud` alone (the OpenStack layer, "
        "no Kubernetes resources), as for a first `up` on a new cloud.",
    )
    cloud: CloudConfig = Field(title="Cloud", description="Where the environment lives.")
    network: NetworkConfig = Field(title="Network", description="Address plan.")
    cluster: ClusterConfig = Field(title="Cluster", description="The Kubernetes cluster.")
    tls: TlsConfig = Field(title="TLS", description="Certificate issuance.")
    vault: VaultConfig = Field(title="Vault", description="The Vault server.")
    phalanx: PhalanxConfig = Field(title="Phalanx", description="The phalanx fork.")
    qserv: QservConfig = Field(title="Qserv", description="The Qserv database.")
    buckets: BucketsConfig = Field(title="Buckets", description="Object storage.")
    backups: BackupsConfig = Field(title="Backups", description="etcd and Vault snapshots.")
    mirror: MirrorConfig = Field(
        default=MirrorConfig(),
        title="Mirror",
        description="Local copies of charts and files, for sites behind a firewall.",
    )
    allow: list[AllowedChange] = Field(
        default=[],
        max_length=20,
        title="Allowed changes",
        description="Changes to protected resources (prod's control planes, their ports, the "
        "cluster's keys, Vault, Qserv, buckets, volume namespaces) this stack file allows: "
        "each entry lifts `protect` from one resource while it is listed, and the policy pack "
        "lets it through. Remove the entry once the change is done.",
    )
    sandbox: SandboxConfig | None = Field(
        default=None,
        title="Sandbox",
        description="Owner and expiry; required for, and only for, the sandbox environment.",
    )
