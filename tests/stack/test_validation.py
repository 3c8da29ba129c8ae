"""The stack configuration model and its rules: each rule with a good and a bad case."""

from __future__ import annotations

from typing import Any

import pytest

from infra.errors import ConfigError, format_path
from infra.stack.model import StackConfig
from infra.stack.profiles import PROFILES, SITE, defaults_for
from infra.stack.validation import validate
from tests.support.stacks import DEV, with_changes, with_dns01_secret

SOURCE = "stacks/Pulumi.test.yaml"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR6kw+SbpchLzGRBZepWNMn63BqGHUr/4rq2WS0qWUs x@y"

PROD: dict[str, Any] = {
    "environment": "prod",
    "fqdn": "rsp.lsst.ac.uk",
    "cloud": {"name": "somerville-ukdac-prod"},
    "phalanx": {"environment": "ukidacprod"},
}
SANDBOX: dict[str, Any] = {
    "environment": "sandbox",
    "fqdn": "jo.sbx.rsp-dev.lsst.ac.uk",
    "cloud": {"name": "somerville-ukdac-sandbox"},
    "phalanx": {"environment": "sbx-jo"},
    "sandbox": {"owner": "jo", "expires": "2027-01-31"},
    "network": {"nodeCidr": "10.20.5.0/24"},  # from the sandbox pool, as `sandbox create` does
}


def problems(raw: dict[str, Any], secure: set[tuple[str | int, ...]] | None = None) -> list[str]:
    """Every problem as 'path: message', or [] when the config is valid."""
    try:
        validate(raw, "ukdac-test", SOURCE, secure)
    except ConfigError as error:
        return [f"{format_path(p.path)}: {p.message}" for p in error.problems]
    return []


def assert_problem(raw: dict[str, Any], path: str, fragment: str) -> None:
    found = problems(raw)
    matching = [p for p in found if p.startswith(f"{path}: ") and fragment in p]
    assert matching, f"expected {path} ~ {fragment!r}, got {found}"


def test_the_bases_are_valid() -> None:
    assert problems(DEV) == []
    assert problems(PROD) == []
    assert problems(SANDBOX) == []


# (base, changes, path of the problem, fragment of its message)
def _group(name: str, count: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A node group; the first carries the Qserv ingest label dev requires."""
    return {
        "name": name,
        "flavor": "f",
        "count": count,
        "labels": {"tier": "utility", **(labels or {})},
    }


BAD_CASES: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
    (PROD, {"tls.issuer": "selfsigned"}, "ukdac:tls.issuer", "not allowed in prod"),
    (PROD, {"tls.issuer": "letsencrypt-staging"}, "ukdac:tls.issuer", "letsencrypt"),
    (DEV, {"vault.mode": "dev"}, "ukdac:vault.mode", "not allowed in dev"),
    (PROD, {"vault.mode": "standalone"}, "ukdac:vault.mode", "use one of: ha"),
    (PROD, {"phalanx.autoSync": True}, "ukdac:phalanx.autoSync", "not allowed in prod"),
    (DEV, {"network.podCidr": "10.10.0.0/16"}, "ukdac:network.podCidr", "overlaps nodeCidr 10."),
    (
        DEV,
        {"network.serviceCidr": "10.244.128.0/20"},
        "ukdac:network.serviceCidr",
        "overlaps podCidr",
    ),
    (DEV, {"network.nodeCidr": "10.10.0.1/24"}, "ukdac:network.nodeCidr", "not a valid"),
    (DEV, {"fqdn": "RSP.lsst.ac.uk"}, "ukdac:fqdn", "fully qualified DNS name"),
    (DEV, {"fqdn": "localhost"}, "ukdac:fqdn", "fully qualified DNS name"),
    (DEV, {"fqdn": "rsp..lsst.ac.uk"}, "ukdac:fqdn", "fully qualified DNS name"),
    (DEV, {"vault.url": "http://vault.example.org"}, "ukdac:vault.url", "https://"),
    (
        DEV,
        {"cloud.adminCidrs": ["192.0.2.0/24", "0.0.0.0/0"]},
        "ukdac:cloud.adminCidrs",
        "much of the Internet",
    ),
    # Two halves of the Internet are the Internet: judged on the addresses covered.
    (
        DEV,
        {"cloud.adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
        "ukdac:cloud.adminCidrs",
        "more IPv4 addresses than a /8",
    ),
    (DEV, {"cloud.adminCidrs": ["10.0.0.0/8", "11.0.0.0/32"]}, "ukdac:cloud.adminCidrs", "/8"),
    (DEV, {"cloud.adminCidrs": ["2000::/3"]}, "ukdac:cloud.adminCidrs", "IPv6"),
    (DEV, {"cloud.adminCidrs": ["2001:db8::/31"]}, "ukdac:cloud.adminCidrs", "than a /32"),
    (DEV, {"network.nodeCidr": "240.0.0.0/24"}, "ukdac:network.nodeCidr", "is reserved address"),
    # Accepted before though invalid (the consumer-findings issue), each with its rule:
    (DEV, {"vault.url": "https://999.1.1.1"}, "ukdac:vault.url", "neither an IPv4 address"),
    (DEV, {"buckets.s3Endpoint": "http://10.0.0.256:6780"}, "ukdac:buckets.s3Endpoint", "IPv4"),
    (DEV, {"vault.pathPrefix": "secret//phalanx"}, "ukdac:vault.pathPrefix", "no empty segment"),
    (DEV, {"vault.pathPrefix": "secret/phalanx/"}, "ukdac:vault.pathPrefix", "no empty segment"),
    (DEV, {"vault.pathPrefix": "/secret"}, "ukdac:vault.pathPrefix", "must be a Vault KV path"),
    (
        DEV,
        {"cloud.keypairPublicKey": f"{KEY}\n{KEY}"},
        "ukdac:cloud.keypairPublicKey",
        "one key on one line",
    ),
    (DEV, {"cloud.dnsNameservers": ["0.0.0.0"]}, "ukdac:cloud.dnsNameservers[0]", "unspecified"),
    (
        DEV,
        {"cloud.dnsNameservers": ["1.1.1.1", "127.0.0.53"]},
        "ukdac:cloud.dnsNameservers[1]",
        "a loopback",
    ),
    (DEV, {"cloud.dnsNameservers": ["224.0.0.251"]}, "ukdac:cloud.dnsNameservers[0]", "multicast"),
    (
        DEV,
        {"cloud.dnsNameservers": ["8.8.8.8", "10.10.0.2"]},
        "ukdac:cloud.dnsNameservers[1]",
        "lies inside network.nodeCidr 10.10.0.0/24",
    ),
    (
        DEV,
        {"cloud.dnsNameservers": ["10.96.0.10"]},
        "ukdac:cloud.dnsNameservers[0]",
        "lies inside network.serviceCidr",
    ),
    (
        SANDBOX,
        {"network.nodeCidr": "10.10.0.0/24"},
        "ukdac:network.nodeCidr",
        "outside the sandbox pool 10.20.0.0/16",
    ),
    (DEV, {"vault.pathPrefix": "Bad Prefix"}, "ukdac:vault.pathPrefix", "must be a Vault KV path"),
    (DEV, {"cloud": {"name": "c", "region": "R"} | {"image": None}}, "ukdac:cloud.image", "valid"),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "g", "count": 1}]},
        "ukdac:cluster.nodeGroups[0].flavor",
        "required key is missing",
    ),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "g", "flavor": "f", "count": 1, "colour": "red"}]},
        "ukdac:cluster.nodeGroups[0].colour",
        "allowed keys here: name, flavor, count, labels, taints",
    ),
    (DEV, {"network.nodeCidr": "169.254.0.0/24"}, "ukdac:network.nodeCidr", "link-local"),
    (DEV, {"network.podCidr": "127.16.0.0/16"}, "ukdac:network.podCidr", "loopback"),
    (DEV, {"network.serviceCidr": "224.0.0.0/16"}, "ukdac:network.serviceCidr", "multicast"),
    (DEV, {"network.nodeCidr": "0.0.0.0/24"}, "ukdac:network.nodeCidr", "this network"),
    (DEV, {"network.serviceCidr": "10.0.0.0/11"}, "ukdac:network.serviceCidr", "wider than /12"),
    (DEV, {"network.nodeCidr": "10.10.0.0/28"}, "ukdac:network.nodeCidr", "host addresses"),
    (DEV, {"network.podCidr": "10.244.0.0/27"}, "ukdac:network.podCidr", "per-node /26 blocks"),
    (DEV, {"network.podCidr": "10.244.0.0/24"}, "ukdac:network.podCidr", "holds 4 per-node"),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "control-plane", "flavor": "f", "count": 1}]},
        "ukdac:cluster.nodeGroups[0].name",
        "reserved for the control planes",
    ),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": f"g{i}", "flavor": "f", "count": 200} for i in range(2)]},
        "ukdac:cluster.nodeGroups",
        "at most 250",
    ),
    # No string-to-number or string-to-boolean coercion.
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "g", "flavor": "f", "count": "3"}]},
        "ukdac:cluster.nodeGroups[0].count",
        "valid integer",
    ),
    (DEV, {"qserv.enabled": "yes"}, "ukdac:qserv.enabled", "valid boolean"),
    (DEV, {"buckets.retainByDefault": "no"}, "ukdac:buckets.retainByDefault", "valid boolean"),
    (DEV, {"cluster.bootVolumeSize": True}, "ukdac:cluster.bootVolumeSize", "valid integer"),
    (SANDBOX, {"vault.allowedCidrs": ["0.0.0.0/0"]}, "ukdac:vault.allowedCidrs", "root token"),
    # A sandbox's Vault stays private whatever its mode.
    (
        SANDBOX,
        {"vault.mode": "standalone", "vault.allowedCidrs": ["0.0.0.0/0"]},
        "ukdac:vault.allowedCidrs",
        "stays behind the admin CIDRs",
    ),
    (DEV, {"network.serviceCidr": "10.96.0.0/29"}, "ukdac:network.serviceCidr", "narrower"),
    (
        DEV,
        {"cloud.applicationCredentialRoles": ["member", "admin"]},
        "ukdac:cloud.applicationCredentialRoles[1]",
        "not a role the cloud controller needs",
    ),
    # Labels under Kubernetes' own prefixes are the kubelet's to set, but for its two.
    *(
        (
            DEV,
            {"cluster.nodeGroups": [_group("general", 3, {key: "x"})]},
            f"ukdac:cluster.nodeGroups[0].labels.{key}",
            "kubelet may not set labels under kubernetes.io or k8s.io",
        )
        for key in ("node-role.kubernetes.io/ingest", "example.k8s.io/tier", "kubernetes.io/os")
    ),
    # .1-.19 reserved (router, VIP, control planes), then 6 workers and 5 for DHCP: 20 + 6 +
    # 5 = 31 addresses; a /27 has 30 hosts.
    (
        DEV,
        {"network.nodeCidr": "10.10.0.0/27", "cluster.nodeGroups": [_group("general", 6)]},
        "ukdac:network.nodeCidr",
        "has 30 host addresses; 7 nodes need 31",
    ),
    (
        DEV,
        {"vault.mode": "dev", "vault.allowedCidrs": ["192.0.2.0/24"]},
        "ukdac:vault.allowedCidrs",
        "stays behind the admin CIDRs",
    ),
    (
        DEV,
        {
            "cluster.nodeGroups": [
                {
                    "name": "a",
                    "flavor": "f",
                    "count": 2,
                    "taints": [{"key": "k", "effect": "NoSchedule"}],
                },
                {"name": "b", "flavor": "f", "count": 0},
            ],
            "qserv.enabled": False,
        },
        "ukdac:cluster.nodeGroups",
        "no schedulable node",
    ),
    (
        DEV,
        {
            "cluster.nodeGroups": [
                {"name": "a", "flavor": "f", "count": 1, "labels": {"tier": "utility"}},
                {"name": "a", "flavor": "f", "count": 1},
            ]
        },
        "ukdac:cluster.nodeGroups[1].name",
        "duplicate node-group name",
    ),
    (
        DEV,
        {
            "cluster.backend": "magnum",
            "cluster.nodeGroups": [
                {"name": "a", "flavor": "f", "count": 2, "labels": {"tier": "utility"}},
                {
                    "name": "b",
                    "flavor": "f",
                    "count": 1,
                    "taints": [{"key": "k", "effect": "NoSchedule"}],
                },
            ],
        },
        "ukdac:cluster.nodeGroups[1].taints",
        "Magnum cannot taint",
    ),
    (
        DEV,
        {"qserv.ingestNodeLabel": "tier=bigdata"},
        "ukdac:qserv.ingestNodeLabel",
        "no node group",
    ),
    (DEV, {"tls.issuer": "letsencrypt", "tls.acmeEmail": None}, "ukdac:tls.acmeEmail", "required"),
    (DEV, {"tls.solver": "dns01"}, "ukdac:tls.dns01", "required when solver is dns01"),
    (
        DEV,
        {"tls.dns01": {"nameserver": "192.0.2.53:53", "tsigKeyName": "k", "tsigSecret": "s"}},
        "ukdac:tls.dns01",
        "solver is http01",
    ),
    ({k: v for k, v in SANDBOX.items() if k != "sandbox"}, {}, "ukdac:sandbox", "required"),
    (DEV, {"sandbox": {"owner": "jo", "expires": "2027-01-01"}}, "ukdac:sandbox", "only a sandbox"),
    (DEV, {"cluster.kubernetesVersion": "1.20.4"}, "ukdac:cluster.kubernetesVersion", "1.35"),
    (DEV, {"cluster.kubernetesVersion": "v1.35"}, "ukdac:cluster.kubernetesVersion", "exact"),
    (
        DEV,
        {"cluster.controlPlane": {"flavor": "f", "count": 2}},
        "ukdac:cluster.controlPlane.count",
        "1, 3 or 5",
    ),
    (DEV, {"cluster.backend": "k3s"}, "ukdac:cluster.backend", "'kubeadm' or 'magnum'"),
    (
        DEV,
        {"backups": {"enabled": True}, "buckets.containers": [{"name": "backups"}]},
        "ukdac:backups.bucket",
        "snapshots get a bucket of their own",
    ),
    (DEV, {"backups": {"enabled": True, "retentionDays": 0}}, "ukdac:backups.retentionDays", "1"),
    (DEV, {"backups": {"enabled": True, "schedule": "daily"}}, "ukdac:backups.schedule", "cron"),
    (
        DEV,
        {"allow": [{"resource": "cluster-control-plane-0", "change": "move", "reason": "a fault"}]},
        "ukdac:allow[0].change",
        "'replace' or 'delete'",
    ),
    (
        DEV,
        {"allow": [{"resource": "cluster-control-plane-0", "change": "replace", "reason": "x"}]},
        "ukdac:allow[0].reason",
        "at least 10",
    ),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "g", "flavor": "f", "count": 2, "retiring": 2}]},
        "ukdac:cluster.nodeGroups[0].retiring",
        "raise `generation`",
    ),
    (
        DEV,
        {
            "cluster.backend": "magnum",
            "cluster.nodeGroups": [{"name": "g", "flavor": "f", "count": 2, "generation": 2}],
        },
        "ukdac:cluster.nodeGroups[0].generation",
        "Magnum replaces a node group's nodes itself",
    ),
    (
        DEV,
        {"cluster.nodeGroups": [{"name": "g", "flavor": "f", "count": 150, "retiring": 150}]},
        "ukdac:cluster.nodeGroups",
        "at most",
    ),
    (DEV, {"cloud.keypairPublicKey": "ssh-rsa AAAA"}, "ukdac:cloud.keypairPublicKey", "OpenSSH"),
    (
        DEV,
        {"cloud.keypairPublicKey": "not a key"},
        "ukdac:cloud.keypairPublicKey",
        "OpenSSH public key",
    ),
    (DEV, {"qserv.image": "qserv/lite-qserv"}, "ukdac:qserv.image", "explicit tag"),
    (DEV, {"qserv.worker": {"replicas": 2, "storage": "2TB"}}, "ukdac:qserv.worker.storage", "Gi"),
    (DEV, {"phalanx.environment": "UK_dev"}, "ukdac:phalanx.environment", "DNS label"),
    (DEV, {"phalanx.colour": "red"}, "ukdac:phalanx.colour", "allowed keys here: repository"),
    (DEV, {"bogus": 1}, "ukdac:bogus", "unknown key; allowed keys: environment"),
    (
        DEV,
        {"buckets.credentialsNamespace": "tap"},
        "ukdac:buckets.credentialsNamespace",
        "no longer a setting: TAP reads its S3 keys from Vault",
    ),
    (
        DEV,
        {"buckets.containers": [{"name": "tap"}, {"name": "tap"}]},
        "ukdac:buckets.containers[1].name",
        "duplicate",
    ),
    (DEV, {"environment": "staging"}, "ukdac:environment", "sandbox, dev, test, prod"),
]


@pytest.mark.parametrize(("base", "changes", "path", "fragment"), BAD_CASES)
def test_bad_values_are_reported_with_path_and_allowed_values(
    base: dict[str, Any], changes: dict[str, Any], path: str, fragment: str
) -> None:
    assert_problem(with_changes(base, **changes), path, fragment)


GOOD_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (DEV, {"vault.url": "https://192.0.2.10:8200"}),
    (DEV, {"vault.pathPrefix": "secret/phalanx_dev/ukidac-dev"}),
    (SANDBOX, {"network.nodeCidr": "10.20.255.0/24"}),
    (DEV, {"tls.issuer": "selfsigned"}),
    (DEV, {"tls.issuer": "letsencrypt-staging"}),
    (SANDBOX, {"vault.mode": "dev"}),
    (DEV, {"vault.mode": "ha"}),
    (PROD, {"phalanx.autoSync": False}),
    (DEV, {"network.podCidr": "172.16.0.0/16"}),
    (DEV, {"cloud.adminCidrs": ["192.0.2.0/24", "2001:db8::/32"]}),
    (DEV, {"cloud.adminCidrs": ["10.0.0.0/8"]}),  # exactly the widest allowed
    (PROD, {"vault.allowedCidrs": ["0.0.0.0/0"]}),  # opened on purpose, in the stack file
    (DEV, {"network.podCidr": "10.244.0.0/22"}),  # 16 blocks for 6 nodes
    # Exactly enough addresses: 5 workers need 20 + 5 + 5 = 30, a /27's hosts.
    (DEV, {"network.nodeCidr": "10.10.0.0/27", "cluster.nodeGroups": [_group("general", 5)]}),
    # One schedulable node is enough beside a tainted group.
    (
        DEV,
        {
            "cluster.nodeGroups": [
                _group("general", 1),
                {**_group("gpu", 2), "taints": [{"key": "k", "effect": "NoSchedule"}]},
            ]
        },
    ),
    (DEV, {"cluster.nodeGroups": [_group("general", 3, {"node.kubernetes.io/pool": "a"})]}),
    (DEV, {"cluster.nodeGroups": [_group("general", 3, {"lsst.ac.uk/pool": "a"})]}),
    # One node carrying Qserv's ingest label is enough.
    (
        DEV,
        {
            "cluster.nodeGroups": [
                _group("ingest", 1),
                {"name": "general", "flavor": "f", "count": 3},
            ]
        },
    ),
    (DEV, {"qserv.enabled": False, "qserv.ingestNodeLabel": "tier=bigdata"}),
    (DEV, {"cluster.backend": "magnum", "cluster.bootVolumeSize": 50}),
    (DEV, {"vault.url": "https://vault.example.org", "vault.pathPrefix": "secret/uk/dev"}),
]


@pytest.mark.parametrize(("base", "changes"), GOOD_CASES)
def test_good_values_pass(base: dict[str, Any], changes: dict[str, Any]) -> None:
    assert problems(with_changes(base, **changes)) == []


def test_every_problem_is_reported_at_once() -> None:
    raw = with_changes(
        PROD,
        **{
            "fqdn": "bad_name",
            "tls.issuer": "selfsigned",
            "vault.mode": "dev",
            "network.podCidr": "10.10.0.0/16",
            "cluster.controlPlane": {"flavor": "f", "count": 4},
        },
    )
    found = problems(raw)
    for path in (
        "ukdac:fqdn",
        "ukdac:tls.issuer",
        "ukdac:vault.mode",
        "ukdac:network.podCidr",
        "ukdac:cluster.controlPlane.count",
    ):
        assert any(p.startswith(path + ":") for p in found), (path, found)


def test_a_bad_profile_default_is_attributed_to_the_profile() -> None:
    # The stack replaces the node groups without the utility label the dev profile's Qserv uses.
    raw = with_changes(DEV, **{"cluster.nodeGroups": [{"name": "w", "flavor": "f", "count": 3}]})
    with pytest.raises(ConfigError) as caught:
        validate(raw, "ukdac-dev", SOURCE)
    (problem,) = caught.value.problems
    assert problem.path == ("qserv", "ingestNodeLabel")
    assert problem.from_profile == "dev"
    assert "(default of the 'dev' profile)" in caught.value.render()


def test_message_names_file_key_value_and_allowed() -> None:
    raw = with_changes(DEV, **{"cluster.nodeGroups": [{"name": "w", "flavor": "f", "count": -1}]})
    with pytest.raises(ConfigError) as caught:
        validate(raw, "ukdac-dev", SOURCE)
    text = caught.value.render()
    assert f"{SOURCE}: ukdac:cluster.nodeGroups[0].count = -1: " in text
    assert "greater than or equal to 0" in text


DNS01 = {"nameserver": "192.0.2.53:53", "tsigKeyName": "acme", "tsigSecret": "c2VjcmV0"}


def test_a_secret_must_come_from_a_secure_value_and_is_never_shown() -> None:
    raw = with_changes(DEV, **{"tls.solver": "dns01", "tls.dns01": DNS01})
    with pytest.raises(ConfigError) as caught:
        validate(raw, "ukdac-dev", SOURCE, secure_paths=set())
    text = caught.value.render()
    assert "ukdac:tls.dns01.tsigSecret" in text and "secure:" in text
    assert "c2VjcmV0" not in text
    # The same value, marked secure (as the stack file loader or the engine says), passes.
    deployment = validate(raw, "ukdac-dev", SOURCE, secure_paths={("tls",)})
    assert deployment.config.tls.dns01 is not None
    assert deployment.config.tls.dns01.tsig_secret.get_secret_value() == "c2VjcmV0"


def test_derived_values_come_from_fqdn_and_phalanx_environment() -> None:
    d = validate(DEV, "ukdac-dev", SOURCE)
    assert d.hostnames.vault == "vault.rsp-dev.lsst.ac.uk"
    assert d.hostnames.argocd_url == "https://rsp-dev.lsst.ac.uk/argo-cd"  # phalanx's path
    assert d.vault_url == "https://vault.rsp-dev.lsst.ac.uk"
    assert d.vault_path_prefix == "secret/phalanx/ukidacdev"
    names = d.names
    assert (names.network, names.subnet, names.router) == (
        "ukdac-dev-net",
        "ukdac-dev-subnet",
        "ukdac-dev-router",
    )
    assert names.keypair == "ukdac-dev-keypair"
    assert names.cluster == "ukdac-dev"
    assert names.api_host == "kube-api.ukdac-dev.internal"
    assert names.tags == ("ukdac-stack=ukdac-dev",)
    assert dict(names.security_groups) == {
        "control-plane": "ukdac-dev-control-plane",
        "workers": "ukdac-dev-workers",
        "ingress": "ukdac-dev-ingress",
    }
    # One name per node, control plane first, each with its own port.
    groups = d.config.cluster.node_groups
    assert list(names.nodes) == ["control-plane", *(g.name for g in groups)]
    for group in groups:
        nodes = names.nodes[group.name]
        assert len(nodes) == group.count
        assert nodes[0].server == f"ukdac-dev-{group.name}-0"
        assert nodes[0].port == f"ukdac-dev-{group.name}-0-port"
        assert names.server_groups[group.name] == f"ukdac-dev-{group.name}"
    assert [b.physical_name for b in d.buckets] == ["ukdac-dev-tap-results"]
    assert d.protect_stateful is False


def test_prod_protects_state_and_retains_buckets_by_default() -> None:
    d = validate(
        with_changes(
            PROD, **{"buckets.containers": [{"name": "a"}, {"name": "b", "retain": False}]}
        ),
        "ukdac-prod",
        SOURCE,
    )
    assert d.protect_stateful is True
    # Then the snapshots' own bucket (backups are on in prod), retained whatever the default.
    assert [(b.name, b.retain) for b in d.buckets] == [("a", True), ("b", False), ("backups", True)]


@pytest.mark.parametrize("environment", list(PROFILES))
def test_every_profile_alone_is_complete_but_for_the_stack_specific_keys(environment: str) -> None:
    """A profile plus fqdn, the cloud entry and the phalanx environment is a valid stack (a
    sandbox's also needs its owner, expiry and its /24 of the pool: `sandbox create` writes
    them)."""
    raw: dict[str, Any] = {
        "environment": environment,
        "fqdn": "x.lsst.ac.uk",
        "cloud": {"name": "c"},
        "phalanx": {"environment": "x"},
    }
    if environment == "sandbox":
        raw["sandbox"] = {"owner": "jo", "expires": "2027-01-01"}
        raw["network"] = {"nodeCidr": "10.20.9.0/24"}
    assert problems(raw) == []


def test_profiles_only_hold_keys_of_the_model() -> None:
    fields = {f.alias for f in StackConfig.model_fields.values()}
    for environment in PROFILES:
        assert set(defaults_for(environment)) <= fields
    assert set(SITE) <= fields


def test_stack_name_must_be_dns_safe() -> None:
    with pytest.raises(ConfigError, match="stack name"):
        validate(DEV, "UKDAC_dev", SOURCE)


def test_the_whole_model_needs_no_second_validation() -> None:
    """validate() builds StackConfig from its validated sections: a model-level validator
    would be skipped, so there must be none (move such a check into infra/stack/rules.py)."""
    assert StackConfig.__pydantic_decorators__.model_validators == {}
    d = validate(DEV, "ukdac-dev", SOURCE)
    assert d.config == StackConfig.model_validate(d.config.model_dump(by_alias=True))


def test_a_bad_value_says_whether_the_file_or_the_profile_set_it() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(with_changes(PROD, fqdn="BAD", **{"phalanx.autoSync": True}), "ukdac-prod", SOURCE)
    lines = {format_path(p.path): p.render(SOURCE) for p in caught.value.problems}
    assert "(default of" not in lines["ukdac:fqdn"]
    assert "ukdac:phalanx.autoSync = True:" in lines["ukdac:phalanx.autoSync"]


def test_effective_config_masks_secure_values_and_says_where_each_comes_from(
    make_project: Any,
) -> None:
    from infra.stack.files import load_stack_file
    from infra.stack.validation import effective_config
    from tests.support.stacks import stack_document

    document = with_dns01_secret(stack_document(DEV), {"secure": "v1:X"})
    project = make_project({"ukdac-dev": document})
    config = effective_config(load_stack_file(project, "ukdac-dev"))
    assert config["ukdac:tls.dns01.tsigSecret"] == ("[secret]", "stack file")
    assert config["ukdac:fqdn"] == ("rsp-dev.lsst.ac.uk", "stack file")
    assert config["ukdac:vault.mode"][1] == "dev profile"


def test_nublado_subdomains_need_a_dns01_solver_with_acme_issuers() -> None:
    on = with_changes(DEV, **{"phalanx.nubladoSubdomains": True})
    assert problems(on) == [
        "ukdac:phalanx.nubladoSubdomains: nublado's subdomains need a wildcard certificate "
        "(*.nb.<fqdn>), which only an ACME DNS-01 solver can obtain: set `tls.solver: dns01` "
        "and `tls.dns01`, or turn nubladoSubdomains off"
    ]
    # A self-signed issuer signs wildcards itself; DNS-01 satisfies the rule.
    assert problems(with_changes(on, **{"tls.issuer": "selfsigned"})) == []
    dns01 = with_dns01_secret({"config": {}}, "c2VjcmV0")["config"]["ukdac:tls"]
    solved = with_changes(on, tls={**dns01, "issuer": "letsencrypt-staging"})
    assert problems(solved, {("tls", "dns01", "tsigSecret")}) == []


def test_gafaelfawr_logs_in_through_exactly_one_provider() -> None:
    github = {"clientId": "abc", "teams": {"lsp-uk/dev": ["exec:notebook"]}}
    cilogon = {"clientId": "cilogon:/client_id/1", "groups": {"g_users": ["exec:notebook"]}}
    one = "ukdac:phalanx.identity: set exactly one identity provider: `github` or `cilogon`"
    assert problems(with_changes(DEV, **{"phalanx.identity": {"github": github}})) == []
    assert problems(with_changes(DEV, **{"phalanx.identity": {"cilogon": cilogon}})) == []
    assert problems(with_changes(DEV, **{"phalanx.identity": {}})) == [one]
    both = {"github": github, "cilogon": cilogon}
    assert problems(with_changes(DEV, **{"phalanx.identity": both})) == [one]
    bad_team = {"github": {**github, "teams": {"no-slash": ["exec:notebook"]}}}
    (message,) = problems(with_changes(DEV, **{"phalanx.identity": bad_team}))
    assert "'<organisation>/<team slug>'" in message


def _fqdn_of_length(length: int) -> str:
    """A valid DNS name of exactly `length` characters (labels of 63 or fewer)."""
    tail = ".lsst.ac.uk"
    labels, left = [], length - len(tail)
    while left > 0:
        size = min(63, left if left <= 63 else left - 2)  # keep room for a dot and a letter
        labels.append("a" * size)
        left -= size + 1
    name = ".".join(labels) + tail
    assert len(name) == length, (len(name), length)
    return name


def test_an_fqdn_leaves_room_for_every_name_derived_from_it() -> None:
    """vault.<fqdn> is the longest name made from the fqdn and must stay within 253."""
    longest = _fqdn_of_length(253 - len("vault."))
    assert problems(with_changes(DEV, fqdn=longest)) == []
    assert len(f"vault.{longest}") == 253
    assert_problem(with_changes(DEV, fqdn=_fqdn_of_length(248)), "ukdac:fqdn", "vault.<fqdn>")


def test_a_missing_top_level_key_is_named() -> None:
    without_fqdn = {k: v for k, v in DEV.items() if k != "fqdn"}
    assert_problem(without_fqdn, "ukdac:fqdn", "required key is missing")
