"""Each Kubernetes component alone, under the offline engine."""

from __future__ import annotations

import re

import pulumi
import pytest

from components.kubernetes.cert_manager import (
    TSIG_SECRET,
    CertManager,
    CertManagerArgs,
    Rfc2136,
    issuer_specs,
)
from components.kubernetes.cloud_provider import CloudProvider, CloudProviderArgs
from components.kubernetes.helm import ChartRef
from components.kubernetes.metadata_guard import METADATA, MetadataGuardArgs, policy
from components.kubernetes.vault import (
    TLS_DIR,
    TLS_SECRET,
    Vault,
    VaultArgs,
    tls_objects,
    vault_values,
)
from infra.plan.engine import run_callable
from infra.plan.model import is_secret

CHART = ChartRef("c", "1.0.0", "https://charts.example.org")
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


def test_dns01_solver_uses_a_tsig_secret_in_the_cert_manager_namespace() -> None:
    def program() -> None:
        CertManager(
            "cm",
            CertManagerArgs(
                chart=CHART,
                chosen_issuer="letsencrypt",
                ingress_class="nginx",
                acme_email="ops@example.org",
                dns01=Rfc2136(
                    "192.0.2.53:53", "acme", "HMACSHA512", pulumi.Output.secret("c2VjcmV0")
                ),
            ),
        )

    plan = run_callable(program)
    (secret,) = plan.find("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"] == {"name": TSIG_SECRET, "namespace": "cert-manager"}
    assert is_secret(secret.inputs["stringData"]) and "c2VjcmV0" not in plan.to_json()
    issuers = {
        r.inputs["metadata"]["name"]: r
        for r in plan.find("kubernetes:cert-manager.io/v1:ClusterIssuer")
    }
    (solver,) = issuers["letsencrypt"].inputs["spec"]["acme"]["solvers"]
    assert solver["dns01"]["rfc2136"]["tsigSecretSecretRef"] == {
        "name": TSIG_SECRET,
        "key": "tsig-secret",
    }
    for issuer in issuers.values():  # the TSIG secret exists before any issuer uses it
        assert secret.urn in issuer.dependencies


def test_acme_issuers_need_an_email() -> None:
    args = CertManagerArgs(chart=CHART, chosen_issuer="letsencrypt", ingress_class="nginx")
    with pytest.raises(ValueError, match="needs an ACME email"):
        issuer_specs(args)
    selfsigned = CertManagerArgs(chart=CHART, chosen_issuer="selfsigned", ingress_class="nginx")
    assert set(issuer_specs(selfsigned)) == {"selfsigned", "letsencrypt-dns"}


@pytest.mark.parametrize("mode", ["dev", "standalone", "ha"])
def test_vault_modes(mode: str) -> None:
    args = VaultArgs(
        chart=CHART,
        mode=mode,
        hostname="vault.example.org",
        issuer="x",
        ingress_class="nginx",  # type: ignore[arg-type]
        storage_class="fast",
        protect=mode == "ha",
    )
    server = vault_values(args)["server"]
    assert ("dev" in server, "standalone" in server, "ha" in server) == (
        mode == "dev",
        mode == "standalone",
        mode == "ha",
    )
    assert server["dataStorage"]["enabled"] is (mode != "dev")
    if mode != "dev":
        assert server["dataStorage"]["storageClass"] == "fast"
    if mode == "ha":
        assert server["ha"]["raft"]["config"].count("retry_join") == 3

    plan = run_callable(lambda: Vault("v", args))
    (release,) = plan.find("kubernetes:helm.sh/v3:Release")
    assert release.options.get("protect", False) is (mode == "ha")


def test_cilium_guard_uses_a_clusterwide_policy() -> None:
    api_version, kind, _, spec = policy(MetadataGuardArgs(cni="cilium"))
    assert (api_version, kind) == ("cilium.io/v2", "CiliumClusterwideNetworkPolicy")
    assert spec["egressDeny"] == [{"toCIDR": [METADATA]}]
    assert "kube-system" in spec["endpointSelector"]["matchExpressions"][0]["values"]


def _vault_args(mode: str) -> VaultArgs:
    return VaultArgs(
        chart=CHART,
        mode=mode,  # type: ignore[arg-type]
        hostname="vault.example.org",
        issuer="x",
        ingress_class="nginx",
        storage_class="fast",
        replicas=3,
    )


def _covered(name: str, patterns: list[str]) -> bool:
    """Whether a certificate for `patterns` is valid for `name` (one-label wildcards)."""
    return any(
        name == p or (p.startswith("*.") and name.partition(".")[2] == p[2:]) for p in patterns
    )


@pytest.mark.parametrize("mode", ["standalone", "ha"])
def test_vault_speaks_only_tls_with_a_certificate_for_every_name_it_is_reached_by(
    mode: str,
) -> None:
    values = vault_values(_vault_args(mode))
    server = values["server"]
    config = server["ha"]["raft"]["config"] if mode == "ha" else server["standalone"]["config"]
    assert values["global"]["tlsDisable"] is False
    assert "tls_disable" not in config
    assert f'tls_cert_file = "{TLS_DIR}/tls.crt"' in config
    assert f'tls_key_file = "{TLS_DIR}/tls.key"' in config
    mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    volumes = {v["name"]: v["secret"]["secretName"] for v in server["volumes"]}
    assert volumes[mounts[TLS_DIR]] == TLS_SECRET
    assert server["extraEnvironmentVars"]["VAULT_CACERT"] == f"{TLS_DIR}/ca.crt"

    (certificate,) = [
        o for o in tls_objects("vault", 3) if o["spec"].get("secretName") == TLS_SECRET
    ]
    names = certificate["spec"]["dnsNames"]
    assert certificate["spec"]["ipAddresses"] == ["127.0.0.1"]  # the CLI's VAULT_ADDR
    peers = re.findall(r'leader_api_addr = "https://([^:"]+):8200"', config)
    assert len(peers) == (3 if mode == "ha" else 0)
    assert config.count(f'leader_ca_cert_file = "{TLS_DIR}/ca.crt"') == len(peers)
    assert "http://" not in config
    annotations = server["ingress"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    assert annotations["nginx.ingress.kubernetes.io/proxy-ssl-verify"] == "on"
    assert annotations["nginx.ingress.kubernetes.io/proxy-ssl-secret"] == f"vault/{TLS_SECRET}"
    verified_as = annotations["nginx.ingress.kubernetes.io/proxy-ssl-name"]
    # Services phalanx and the chart use, each raft peer, the name the ingress verifies.
    for name in [*peers, verified_as, "vault.vault.svc", "vault-active.vault.svc"]:
        assert _covered(name, names), name


def test_vaults_certificate_comes_from_its_own_ca() -> None:
    objects = {(o["kind"], o["metadata"]["name"]): o["spec"] for o in tls_objects("vault", 3)}
    assert objects[("Issuer", "vault-selfsigned")] == {"selfSigned": {}}
    ca = objects[("Certificate", "vault-ca")]
    assert ca["isCA"] is True
    assert ca["issuerRef"] == {"kind": "Issuer", "name": "vault-selfsigned"}
    assert objects[("Issuer", "vault-ca")] == {"ca": {"secretName": ca["secretName"]}}
    server = objects[("Certificate", TLS_SECRET)]
    assert server["issuerRef"] == {"kind": "Issuer", "name": "vault-ca"}
    assert "isCA" not in server


def test_dev_vault_has_no_tls_and_no_certificates() -> None:
    values = vault_values(_vault_args("dev"))
    assert values["global"]["tlsDisable"] is True
    assert "volumes" not in values["server"]
    plan = run_callable(lambda: Vault("v", _vault_args("dev")))
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:cert-manager.io")]
    plan = run_callable(lambda: Vault("v", _vault_args("ha")))
    kinds = sorted(r.type for r in plan.resources if r.type.startswith("kubernetes:cert-manager"))
    assert kinds == [
        "kubernetes:cert-manager.io/v1:Certificate",
        "kubernetes:cert-manager.io/v1:Certificate",
        "kubernetes:cert-manager.io/v1:Issuer",
        "kubernetes:cert-manager.io/v1:Issuer",
    ]
    (release,) = plan.find("kubernetes:helm.sh/v3:Release")
    issued = {r.urn for r in plan.resources if r.type.startswith("kubernetes:cert-manager")}
    assert issued <= set(release.dependencies), "the pods mount what the certificates make"


def _cloud_provider_pods(cloud_conf: str) -> dict[str, dict[str, str]]:
    """Pod annotations each release gives its pods, for a given cloud.conf."""

    def program() -> None:
        CloudProvider(
            "cp",
            CloudProviderArgs(
                cluster_name="c",
                cloud_conf=pulumi.Output.secret(cloud_conf),
                cinder_csi_chart=CHART,
                occm_chart=CHART,
            ),
        )

    plan = run_callable(program)
    releases = {r.inputs["name"]: r.inputs["values"] for r in plan.find(RELEASE_TYPE)}
    plugin = releases["openstack-cinder-csi"]["csi"]["plugin"]
    return {
        "occm": releases["openstack-cloud-controller-manager"]["podAnnotations"],
        "csi-node": plugin["nodePlugin"]["podAnnotations"],
        "csi-controller": plugin["controllerPlugin"]["podAnnotations"],
    }


def test_a_new_cloud_credential_rolls_the_pods_that_read_it() -> None:
    """OCCM and Cinder CSI read cloud.conf once; a replaced credential must restart them."""
    before = _cloud_provider_pods("[Global]\napplication-credential-secret=one\n")
    after = _cloud_provider_pods("[Global]\napplication-credential-secret=two\n")
    assert before.keys() == after.keys()
    for pods, marks in before.items():
        (digest,) = marks.values()
        assert len(digest) == 16 and not is_secret(digest), pods
        assert after[pods] != marks, pods
    assert before == _cloud_provider_pods("[Global]\napplication-credential-secret=one\n")
