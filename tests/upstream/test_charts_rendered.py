"""ukdac's own releases rendered by Helm from the pinned chart snapshots (UKDAC_CHARTS_DIR),
as the cluster would receive them: every object passes kubernetes-validate (strict), and
Vault's TLS reaches the objects that run it."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from components.kubernetes.cloud_provider import CONFIG_DIGEST
from components.kubernetes.vault import TLS_DIR, TLS_SECRET
from infra.versions import pinned
from tests.support.helm import render_release
from tests.support.stacks import STACKS, config, planned
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream

KUBERNETES_MINOR = ".".join(pinned("kubernetes").split(".")[:2]) + ".0"
# Releases Pulumi keeps managing (the bootstrap releases belong to phalanx's tier).
WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet")
CHARTS = ("vault", "ingress-nginx", "cert-manager", "openstack-cinder-csi")


def _rendered(stack: str, chart: str) -> list[dict[str, Any]]:
    (release,) = [
        r
        for r in planned(stack, show_secrets=True).find("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == chart
    ]
    objects = render_release(release.inputs, upstream_dir("UKDAC_CHARTS_DIR"))
    assert objects is not None, f"no snapshot of {chart} {release.inputs['version']}"
    return objects


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_object_passes_kubernetes_validate(stack: str, chart: str) -> None:
    objects = _rendered(stack, chart)
    assert objects
    for manifest in objects:
        group = manifest["apiVersion"].rpartition("/")[0]
        if "." in group and not group.endswith(".k8s.io"):
            continue  # a custom resource: kubernetes-validate knows the built-in kinds only
        kubernetes_validate.validate(manifest, KUBERNETES_MINOR, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_vaults_pods_serve_tls_with_the_mounted_certificate(stack: str) -> None:
    objects = _rendered(stack, "vault")
    (statefulset,) = [o for o in objects if o["kind"] == "StatefulSet"]
    pod = statefulset["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "vault"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    config_maps = [o for o in objects if o["kind"] == "ConfigMap"]
    if config(stack).config.vault.mode == "dev":
        assert env["VAULT_ADDR"] == "http://127.0.0.1:8200"
        return
    assert env["VAULT_ADDR"] == "https://127.0.0.1:8200"
    assert env["VAULT_CACERT"] == f"{TLS_DIR}/ca.crt"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts[TLS_DIR]]["secret"]["secretName"] == TLS_SECRET
    (settings,) = [c for c in config_maps if c["metadata"]["name"] == "vault-config"]
    hcl = "".join(settings["data"].values())
    assert f"{TLS_DIR}/tls.crt" in hcl
    assert "tls_disable" not in hcl


@pytest.mark.parametrize("stack", STACKS)
def test_cinder_csis_pods_carry_the_cloud_config_digest(stack: str) -> None:
    """What makes a new credential roll the pods: the chart puts it on both pod templates."""
    workloads = [o for o in _rendered(stack, "openstack-cinder-csi") if o["kind"] in WORKLOADS]
    assert {o["kind"] for o in workloads} == {"DaemonSet", "Deployment"}
    for workload in workloads:
        marks = workload["spec"]["template"]["metadata"].get("annotations") or {}
        assert len(marks.get(CONFIG_DIGEST, "")) == 16, workload["metadata"]["name"]
