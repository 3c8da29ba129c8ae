"""Each Kubernetes component alone, under the offline engine."""

from __future__ import annotations

import pulumi
import pytest

from components.kubernetes.cert_manager import (
    TSIG_SECRET,
    CertManager,
    CertManagerArgs,
    Rfc2136,
    issuer_specs,
)
from components.kubernetes.helm import ChartRef
from components.kubernetes.metadata_guard import METADATA, MetadataGuardArgs, policy
from components.kubernetes.vault import Vault, VaultArgs, vault_values
from infra.plan.engine import run_callable
from infra.plan.model import is_secret

CHART = ChartRef("c", "1.0.0", "https://charts.example.org")


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
