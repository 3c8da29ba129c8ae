"""The Kubernetes platform layer of every stack: values, objects and invariants."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.kubernetes.metadata_guard import METADATA
from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.plan.model import Plan, PlannedResource, is_secret
from infra.program import platform_layer
from infra.stack.phalanx import OWNED_BY_UKDAC
from infra.versions import PINS, Pin, pinned
from tests.support.data import chart_keys, schema_file
from tests.support.stacks import BACKENDS, ROOT, STACKS, config, planned

RELEASE = "kubernetes:helm.sh/v3:Release"
BUILTIN = ("kubernetes:core/v1:", "kubernetes:storage.k8s.io/v1:", "kubernetes:batch/v1:")
KUBERNETES_MINOR = ".".join(pinned("kubernetes").split(".")[:2]) + ".0"

# Chart value paths that are free-form maps in the chart's defaults (anything goes below them).
FREE_FORM: dict[str, tuple[str, ...]] = {
    "ingress-nginx": (
        "controller.config",
        "controller.extraArgs",
        "controller.podLabels",
        "controller.nodeSelector",
        "controller.resources",  # a container's ResourceRequirements: validated below
    ),
    # argocd-cm and argocd-cmd-params-cm entries, and the ingress's annotations.
    "argo-cd": (
        "configs.cm",
        "configs.params",
        "server.ingress.annotations",
        # Each component's ResourceRequirements (an empty map in the defaults).
        *(
            f"{c}.resources"
            for c in ("applicationSet", "controller", "dex", "notifications", "redis")
        ),
        *(f"{c}.resources" for c in ("repoServer", "server")),
    ),
    # Pod annotations (empty maps in the defaults: `{}` in the keys files).
    "openstack-cinder-csi": (
        "csi.plugin.nodePlugin.podAnnotations",
        "csi.plugin.controllerPlugin.podAnnotations",
    ),
    "openstack-cloud-controller-manager": ("podAnnotations",),
}
# Keys the defaults file documents only as comments (`# registry: registry.k8s.io` under
# controller.image in ingress-nginx 4.15.1): set on purpose, so the admission webhook's own
# image keeps the upstream registry while the controller comes from Rubin's.
DOCUMENTED: dict[str, tuple[str, ...]] = {
    "ingress-nginx": ("controller.image.registry",),
    "openstack-cinder-csi": ("secret.name",),  # `#  name: cinder-csi-cloud-config`
}
DEFAULTS = {
    "ingress-nginx": "helm/ingress-nginx-4.15.1.keys",
    "argo-cd": "helm/argo-cd-10.1.1.keys",
    "openstack-cinder-csi": "helm/openstack-cinder-csi-2.36.0.keys",
    "openstack-cloud-controller-manager": "helm/openstack-cloud-controller-manager-2.36.0.keys",
}
# Charts whose pinned version is not available offline: checked against the nearest release
# that is (phalanx pins argo-cd 10.2.2; tests/data has 10.1.1's keys).
NEAREST = {"argo-cd": "10.1.1"}
SCHEMAS = {
    "vault": "helm/vault-0.34.1.values.schema.json",
    "cert-manager": "helm/cert-manager-v1.21.1.values.schema.json",
}
CRD_SCHEMAS = {
    "ClusterIssuer": "crds/cert-manager.io_clusterissuer_v1.json",
    "Certificate": "crds/cert-manager.io_certificate_v1.json",
    "Issuer": "crds/cert-manager.io_issuer_v1.json",
    "Application": "crds/argoproj.io_application_v1alpha1.json",
}


def releases(plan: Plan) -> dict[str, PlannedResource]:
    return {r.inputs["chart"]: r for r in plan.find(RELEASE)}


def custom_resources(plan: Plan, kind: str) -> list[PlannedResource]:
    return [
        r
        for r in plan.resources
        if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")
    ]


def test_chart_versions_match_the_checked_defaults() -> None:
    """The schema files tests validate against are those of the pinned chart versions."""
    for chart, path in {**DEFAULTS, **SCHEMAS}.items():
        version = NEAREST.get(chart, pinned(f"chart/{chart}"))
        assert version.lstrip("v") in path, (chart, path)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_releases_are_pinned_and_use_the_cluster_provider(stack: str, backend: str) -> None:
    plan = planned(stack, backend)
    charts = releases(plan)
    expected = {
        "openstack-cinder-csi",
        "ingress-nginx",
        "cert-manager",
        "vault",
        "argo-cd",
        "vault-secrets-operator",
    }
    if backend.startswith("kubeadm"):
        expected.add("openstack-cloud-controller-manager")
    assert set(charts) == expected
    for name, release in charts.items():
        assert release.inputs["version"] == pinned(f"chart/{name}")
    (provider,) = plan.find("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])
    for resource in plan.resources:
        if resource.type.startswith("kubernetes:") and resource.custom:
            assert resource.provider == provider.urn, resource.urn


def _paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _paths(v, f"{prefix}.{k}" if prefix else k)]
    return [prefix]


@pytest.mark.parametrize("stack", STACKS)
def test_chart_values_use_only_keys_the_charts_have(stack: str) -> None:
    charts = releases(planned(stack, show_secrets=True))
    for chart, defaults_path in DEFAULTS.items():
        if chart not in charts:
            continue
        keys = chart_keys(defaults_path)
        for path in _paths(charts[chart].inputs["values"]):
            if any(path == f or path.startswith(f + ".") for f in FREE_FORM[chart]):
                continue
            if path in DOCUMENTED.get(chart, ()):
                assert path in keys.commented, f"{chart}: {path} is not documented in a comment"
                continue
            assert path in keys.present, f"{chart}: {path} is not a key of the chart"


@pytest.mark.parametrize("stack", STACKS)
def test_vault_and_cert_manager_values_pass_their_schemas(stack: str) -> None:
    charts = releases(planned(stack, show_secrets=True))
    for chart, path in SCHEMAS.items():
        schema = json.loads(schema_file(path).read_text())
        errors = [
            e.message
            for e in jsonschema.Draft7Validator(schema).iter_errors(charts[chart].inputs["values"])
        ]
        assert errors == [], (chart, errors[:3])


def _manifest(resource: PlannedResource) -> dict[str, Any]:
    return {
        k: v for k, v in resource.inputs.items() if k in ("apiVersion", "kind", "metadata", "spec")
    }


# The metadata guard's policy: one per CNI, validated against that CNI's own schema.
CNI_POLICY_SCHEMAS = {
    "GlobalNetworkPolicy": "crds/projectcalico.org_globalnetworkpolicy_v3.json",
    "CiliumClusterwideNetworkPolicy": "crds/cilium.io_ciliumclusterwidenetworkpolicy_v2.json",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_metadata_guard_passes_its_cnis_schema(stack: str, backend: str) -> None:
    plan = planned(stack, backend, show_secrets=True)
    expected = (
        "CiliumClusterwideNetworkPolicy" if backend.endswith("cilium") else ("GlobalNetworkPolicy")
    )
    found = {kind: custom_resources(plan, kind) for kind in CNI_POLICY_SCHEMAS}
    assert {k for k, v in found.items() if v} == {expected}
    schema = json.loads(schema_file(CNI_POLICY_SCHEMAS[expected]).read_text())
    for resource in found[expected]:
        errors = [
            e.message for e in jsonschema.Draft7Validator(schema).iter_errors(_manifest(resource))
        ]
        assert errors == [], (resource.name, errors[:3])


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_pass_their_crd_schemas(stack: str) -> None:
    plan = planned(stack, show_secrets=True)
    for kind, path in CRD_SCHEMAS.items():
        schema = json.loads(schema_file(path).read_text())
        objects = custom_resources(plan, kind)
        # Vault's own CA (Issuers) exists wherever Vault speaks TLS: every mode but dev.
        assert objects or (kind == "Issuer" and config(stack).config.vault.mode == "dev"), kind
        for resource in objects:
            errors = [
                e.message
                for e in jsonschema.Draft7Validator(schema).iter_errors(_manifest(resource))
            ]
            assert errors == [], (resource.name, errors[:3])
    qserv = custom_resources(plan, "Qserv")
    if config(stack).config.qserv.enabled:
        crd = yaml.safe_load(schema_file("crds/qserv.lsst.org_qservs.crd.yaml").read_text())
        (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
        schema = version["schema"]["openAPIV3Schema"]
        (resource,) = qserv
        errors = [
            e.message for e in jsonschema.Draft7Validator(schema).iter_errors(_manifest(resource))
        ]
        assert errors == []
    else:
        assert qserv == []


def test_ingress_controller_resources_are_valid_resource_requirements() -> None:
    """Passed through to the controller's container, so held to the Pod schema."""
    values = releases(planned("ukdac-prod", show_secrets=True))["ingress-nginx"].inputs["values"]
    resources = values["controller"]["resources"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "controller"},
        "spec": {"containers": [{"name": "controller", "image": "x", "resources": resources}]},
    }
    kubernetes_validate.validate(pod, KUBERNETES_MINOR, strict=True)
    assert "cpu" not in resources.get("limits", {})  # the chart's advice: no CPU limit
    pod["spec"]["containers"][0]["resources"] = {"limit": {"memory": "1Gi"}}  # type: ignore[index]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, KUBERNETES_MINOR, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_builtin_objects_pass_kubernetes_validate_strict(stack: str) -> None:
    plan = planned(stack, show_secrets=True)
    objects = [r for r in plan.resources if r.type.startswith(BUILTIN)]
    assert {r.inputs["kind"] for r in objects} >= {"Secret", "StorageClass", "Namespace"}
    for resource in objects:
        kubernetes_validate.validate(resource.inputs, KUBERNETES_MINOR, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_depend_on_what_installs_their_crd(stack: str) -> None:
    plan = planned(stack)
    charts = releases(plan)
    installers = {
        "ClusterIssuer": charts["cert-manager"].urn,
        "Application": charts["argo-cd"].urn,
        "VaultSecret": charts["vault-secrets-operator"].urn,
    }
    operator = [r for r in plan.resources if r.type == "kubernetes:yaml/v2:ConfigFile"]
    if operator:
        installers["Qserv"] = operator[0].urn
        assert charts["cert-manager"].urn in operator[0].dependencies  # its webhook needs it
    for kind, installer in installers.items():
        for resource in custom_resources(plan, kind):
            assert installer in resource.dependencies, resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_in_objects_are_masked(stack: str) -> None:
    plan = planned(stack)
    for secret in [r for r in plan.resources if r.type == "kubernetes:core/v1:Secret"]:
        data = secret.inputs["stringData"]
        assert is_secret(data) or (data and all(is_secret(v) for v in data.values())), secret.name


@pytest.mark.parametrize("stack", STACKS)
def test_hostname_is_written_once_and_reaches_every_service(stack: str) -> None:
    fqdn = config(stack).config.fqdn
    text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    # As a whole name: vault-rsp.lsst.ac.uk is another host that merely ends the same way.
    assert len(re.findall(rf"(?<![a-z0-9.-]){re.escape(fqdn)}", text)) == 1
    plan = planned(stack)
    charts = releases(plan)
    vault = charts["vault"].inputs["values"]["server"]["ingress"]
    assert vault["hosts"][0]["host"] == f"vault.{fqdn}" and vault["tls"][0]["hosts"] == [
        f"vault.{fqdn}"
    ]
    argocd = charts["argo-cd"].inputs["values"]
    assert argocd["server"]["ingress"]["hostname"] == fqdn  # phalanx serves it at /argo-cd
    assert argocd["configs"]["cm"]["url"] == f"https://{fqdn}/argo-cd"
    environment = plan.outputs["phalanxEnvironment"]
    assert environment["fqdn"] == fqdn
    issuer = config(stack).config.tls.issuer
    assert vault["annotations"]["cert-manager.io/cluster-issuer"] == issuer
    # RSP charts name `letsencrypt-dns`, which cert-manager publishes for the chosen issuer.
    assert argocd["server"]["ingress"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt-dns"
    }


@pytest.mark.parametrize("stack", STACKS)
def test_phalanx_values_turn_off_what_ukdac_owns(stack: str) -> None:
    d = config(stack)
    environment = planned(stack).outputs["phalanxEnvironment"]
    assert environment == {
        "name": d.config.phalanx.environment,
        "fqdn": d.config.fqdn,
        "vaultUrl": d.vault_url,
        "vaultPathPrefix": d.vault_path_prefix,
        "appOfAppsName": d.config.phalanx.app_of_apps_name,
        "applications": dict.fromkeys(OWNED_BY_UKDAC, False),
    }
    tap = planned(stack).outputs["phalanxApplications"]["tap"]["cadc-tap"]["config"]
    expected_tap: dict[str, Any] = {
        "gcsBucket": d.buckets[0].physical_name,
        "gcsBucketUrl": d.config.buckets.s3_endpoint,
        "gcsBucketType": "S3",
    }
    if d.config.qserv.enabled:
        # qserv-operator's SQL proxy Service for the `qserv` resource in namespace qserv.
        expected_tap["qserv"] = {"host": "qserv-qserv.qserv.svc.cluster.local:4040"}
    assert tap == expected_tap


@pytest.mark.parametrize("stack", STACKS)
def test_app_of_apps_points_at_the_fork(stack: str) -> None:
    cfg = config(stack).config
    (app,) = custom_resources(planned(stack), "Application")
    assert app.inputs["metadata"]["name"] == cfg.phalanx.app_of_apps_name
    source = app.inputs["spec"]["source"]
    # As phalanx's installer creates it (`argocd app create ... --helm-set repoUrl=...`).
    assert source == {
        "repoURL": cfg.phalanx.repository,
        "targetRevision": cfg.phalanx.revision,
        "path": "environments",
        "helm": {
            "parameters": [
                {"name": "repoUrl", "value": cfg.phalanx.repository},
                {"name": "targetRevision", "value": cfg.phalanx.revision},
            ],
            "valueFiles": ["values.yaml", f"values-{cfg.phalanx.environment}.yaml"],
        },
    }
    assert app.inputs["spec"]["project"] == "default"
    assert app.inputs["metadata"]["namespace"] == "argocd"
    assert ("syncPolicy" in app.inputs["spec"]) == cfg.phalanx.auto_sync


def test_prod_runs_ha_vault_on_retained_storage_and_never_auto_syncs() -> None:
    plan = planned("ukdac-prod")
    vault = releases(plan)["vault"]
    server = vault.inputs["values"]["server"]
    assert (
        server["ha"]["enabled"]
        and server["ha"]["replicas"] == 3
        and server["ha"]["raft"]["enabled"]
    )
    assert server["dataStorage"]["storageClass"] == "cinder-retain"
    assert vault.options.get("protect") is True
    (app,) = custom_resources(plan, "Application")
    assert "syncPolicy" not in app.inputs["spec"]


def test_sandbox_runs_vault_in_dev_mode() -> None:
    server = releases(planned("ukdac-sbx-sample"))["vault"].inputs["values"]["server"]
    assert server["dev"] == {"enabled": True} and "ha" not in server and "standalone" not in server


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_runs_on_control_planes_without_a_load_balancer(stack: str) -> None:
    plan = planned(stack)
    controller = releases(plan)["ingress-nginx"].inputs["values"]["controller"]
    assert controller["kind"] == "DaemonSet" and controller["hostNetwork"] is False
    # Backends see the pod's address, which phalanx's NetworkPolicies select by this label.
    assert controller["hostPort"] == {"enabled": True, "ports": {"http": 80, "https": 443}}
    assert controller["podLabels"]["gafaelfawr.lsst.io/ingress"] == "true"
    assert controller["config"]["proxy-body-size"] == "2g"
    assert controller["service"] == {"enabled": False}
    assert "node-role.kubernetes.io/control-plane" in controller["nodeSelector"]
    assert controller["ingressClassResource"] == {"name": "nginx", "enabled": True, "default": True}
    assert controller["allowSnippetAnnotations"] is True
    assert controller["config"]["annotations-risk-level"] == "Critical"
    assert controller["extraArgs"]["publish-status-address"] == plan.outputs["controlPlaneIp"]
    image = controller["image"]
    assert (
        f"{image['registry']}/{image['image']}:{image['tag']}"
        == pinned("image/ingress-nginx-controller").split("@")[0]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_issuers_include_the_alias_rsp_charts_use(stack: str) -> None:
    issuers = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in custom_resources(planned(stack), "ClusterIssuer")
    }
    chosen = config(stack).config.tls.issuer
    assert issuers["letsencrypt-dns"] == issuers[chosen]
    assert issuers["selfsigned"] == {"selfSigned": {}}
    if "letsencrypt" in issuers:
        (solver,) = issuers["letsencrypt"]["acme"]["solvers"]
        assert solver == {"http01": {"ingress": {"ingressClassName": "nginx"}}}


@pytest.mark.parametrize("stack", STACKS)
def test_pods_are_denied_the_metadata_service_and_every_other_policy_still_applies(
    stack: str,
) -> None:
    plan = planned(stack)
    (tier,) = custom_resources(plan, "Tier")
    (policy,) = custom_resources(plan, "GlobalNetworkPolicy")
    # A tier ahead of the default tier (lower order first) that passes the rest on: a Pass
    # rule in the default tier would skip the Kubernetes NetworkPolicies after it.
    assert tier.inputs["spec"] == {"order": 100, "defaultAction": "Pass"}
    spec = policy.inputs["spec"]
    assert spec["tier"] == tier.inputs["metadata"]["name"]
    assert policy.inputs["metadata"]["name"].startswith(spec["tier"] + ".")
    assert spec["egress"] == [{"action": "Deny", "destination": {"nets": [METADATA]}}]
    assert tier.urn in policy.dependencies
    schema = json.loads(schema_file("crds/projectcalico.org_tier_v3.json").read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(_manifest(tier))]
    assert errors == []


def test_the_cilium_guard_leaves_default_allow_in_place() -> None:
    (policy,) = custom_resources(
        planned("ukdac-dev", "kubeadm-cilium"), "CiliumClusterwideNetworkPolicy"
    )
    assert policy.inputs["spec"]["egressDeny"] == [{"toCIDR": [METADATA]}]
    assert policy.inputs["spec"]["enableDefaultDeny"] == {"egress": False, "ingress": False}


@pytest.mark.parametrize("stack", STACKS)
def test_storage_classes_and_csi_cluster_id(stack: str) -> None:
    plan = planned(stack)
    classes = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in plan.find("kubernetes:storage.k8s.io/v1:StorageClass")
    }
    assert classes["cinder"]["reclaimPolicy"] == "Delete"
    assert classes["cinder-retain"]["reclaimPolicy"] == "Retain"
    assert all(
        c["volumeBindingMode"] == "WaitForFirstConsumer" and c["allowVolumeExpansion"]
        for c in classes.values()
    )
    defaults = [
        n
        for n, c in classes.items()
        if c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    ]
    assert defaults == [plan.outputs["defaultStorageClass"]]
    # Volumes carry the stack's name, so clean-up can find them.
    assert releases(plan)["openstack-cinder-csi"].inputs["values"]["clusterID"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_a_plan_warns_of_each_image_pinned_by_tag_only(stack: str) -> None:
    warnings = planned(stack).warnings
    for name, (reference, _) in platform_layer.images(config(stack)).items():
        warned = [w for w in warnings if w.startswith(f"{name} image {reference} ")]
        assert bool(warned) == ("@sha256:" not in reference), (name, warnings)


def test_a_digest_pin_reaches_the_chart_and_silences_the_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = "sha256:" + "ab" * 32
    tag = "ghcr.io/lsst-sqre/ingress-nginx-controller:v1.15.6-lsstsqre-chainguard"
    monkeypatch.setitem(PINS, "image/ingress-nginx-controller", Pin(f"{tag}@{digest}", "test"))
    image = platform_layer.controller_image()
    assert (image.registry, image.image, image.tag, image.digest) == (
        "ghcr.io",
        "lsst-sqre/ingress-nginx-controller",
        "v1.15.6-lsstsqre-chainguard",
        digest,
    )
    assert not any(
        w.startswith("ingress-nginx") for w in platform_layer.tag_only_images(config("ukdac-dev"))
    )
    values = releases(planned.__wrapped__("ukdac-dev", show_secrets=True))["ingress-nginx"]
    assert values.inputs["values"]["controller"]["image"]["digest"] == digest


def _qserv_preference(plan: Plan) -> tuple[str, list[str]]:
    (qserv,) = custom_resources(plan, "Qserv")
    affinity = qserv.inputs["spec"]["ingest"]["affinity"]
    assert qserv.inputs["spec"]["xrootd"]["affinity"] == affinity
    (term,) = affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    (expression,) = term["preference"]["matchExpressions"]
    return expression["key"], expression["values"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", [s for s in STACKS if config(s).config.qserv.enabled])
def test_qserv_prefers_the_nodes_of_the_groups_carrying_the_ingest_label(
    stack: str, backend: str
) -> None:
    cfg = config(stack).config
    key, _, value = cfg.qserv.ingest_node_label.partition("=")
    carriers = [g.name for g in cfg.cluster.node_groups if g.labels.get(key) == value]
    plan = planned(stack, backend, show_secrets=True)
    if backend.startswith(
        "kubeadm"
    ):  # kubelet registers the configured labels (see the join config)
        assert _qserv_preference(plan) == (key, [value])
        return
    # Magnum labels nodes only with their group's role: the node group resources say which.
    roles = {
        r.inputs["name"]: r.inputs["role"]
        for r in plan.find("openstack:containerinfra/nodeGroup:NodeGroup")
    }
    assert _qserv_preference(plan) == ("magnum.openstack.org/role", [roles[c] for c in carriers])
    for group in cfg.cluster.node_groups:
        assert any(w.startswith(f"node group {group.name}: Magnum") for w in plan.warnings) == bool(
            group.labels
        )


def test_on_magnum_the_first_group_is_selected_by_magnum_s_default_worker_role(
    make_project: Any,
) -> None:
    """The first group is the cluster's own node group, not a NodeGroup resource: Magnum
    gives it the role `worker` (Magnum's documented default for a node group's role)."""
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-dev.yaml").read_text())
    document["config"]["ukdac:cluster"] = {
        "backend": "magnum",
        "nodeGroups": [
            {"name": "ingest", "flavor": "m1.xlarge", "count": 2, "labels": {"tier": "utility"}},
            {"name": "general", "flavor": "m1.xlarge", "count": 2},
        ],
    }
    plan = plan_stack(make_project({"ukdac-dev": document}), "ukdac-dev")
    assert _qserv_preference(plan) == ("magnum.openstack.org/role", ["worker"])
    (other,) = plan.find("openstack:containerinfra/nodeGroup:NodeGroup")
    assert (other.inputs["name"], other.inputs["role"]) == ("general", "general")


@pytest.mark.parametrize("stack", STACKS)
def test_vault_is_reachable_only_from_the_admin_networks_by_default(stack: str) -> None:
    """Until it is initialised, whoever reaches Vault first gets its keys."""
    values = releases(planned(stack, show_secrets=True))["vault"].inputs["values"]
    annotations = values["server"]["ingress"]["annotations"]
    admin = ",".join(str(c) for c in config(stack).config.cloud.admin_cidrs)
    assert annotations["nginx.ingress.kubernetes.io/allowlist-source-range"] == admin
    assert annotations["nginx.ingress.kubernetes.io/whitelist-source-range"] == admin


def test_tap_uses_the_named_bucket_or_none() -> None:
    from infra.stack.phalanx import application_values
    from infra.stack.validation import validate
    from tests.support.stacks import DEV, with_changes

    buckets = {"s3Endpoint": "https://s3.example.org", "retainByDefault": False}
    two = with_changes(
        DEV,
        buckets={**buckets, "containers": [{"name": "first"}, {"name": "second"}]},
    )
    chosen = validate(with_changes(two, **{"buckets.tapBucket": "second"}), "ukdac-x", "t")
    tap = application_values(chosen)["tap"]["cadc-tap"]["config"]
    assert tap["gcsBucket"] == "ukdac-x-second"
    default = validate(two, "ukdac-x", "t")
    assert application_values(default)["tap"]["cadc-tap"]["config"]["gcsBucket"] == "ukdac-x-first"
    none = validate(with_changes(DEV, buckets={**buckets, "containers": []}), "ukdac-x", "t")
    assert "gcsBucket" not in application_values(none)["tap"]["cadc-tap"]["config"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_main_hostname_has_a_certificate_the_controller_serves_by_default(stack: str) -> None:
    """phalanx's Ingresses on the main host carry no TLS section of their own (NGINX merges
    them into one server), so the controller's default certificate must be the host's."""
    plan = planned(stack)
    d = config(stack)
    (certificate,) = [
        c
        for c in custom_resources(plan, "Certificate")
        if c.inputs["metadata"]["namespace"] == "ingress-nginx"
    ]
    spec = certificate.inputs["spec"]
    assert spec["dnsNames"] == [d.hostnames.rsp]
    assert spec["issuerRef"] == {"kind": "ClusterIssuer", "name": d.config.tls.issuer}
    issuers = {r.inputs["metadata"]["name"] for r in custom_resources(plan, "ClusterIssuer")}
    assert spec["issuerRef"]["name"] in issuers
    namespace = certificate.inputs["metadata"]["namespace"]
    controller = releases(plan)["ingress-nginx"].inputs
    assert namespace == controller["namespace"]
    served = controller["values"]["controller"]["extraArgs"]["default-ssl-certificate"]
    assert served == f"{namespace}/{spec['secretName']}"


def _qserv_diff(make_project: Any, **changes: Any) -> Any:
    """How prod's Qserv resource changes when `ukdac:qserv` keys change (dotted under it)."""
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-prod.yaml").read_text())
    base = plan_stack(make_project({"ukdac-prod": document}), "ukdac-prod")
    qserv = document["config"].setdefault("ukdac:qserv", {})
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = qserv
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    head = plan_stack(make_project({"ukdac-prod": document}), "ukdac-prod")
    (change,) = [r for r in diff_plans(base, head).resources if r.type.endswith(":Qserv")]
    return change


def test_qserv_changes_the_webhook_allows_update_in_place_and_others_replace(
    make_project: Any,
) -> None:
    """qserv-operator's webhook (api/v1beta1/qserv_webhook.go @ 7b1bbd2f) lets an update change
    only the images, the czar and worker replica counts and tolerations."""
    grown = _qserv_diff(make_project, **{"worker.replicas": 12})
    assert (grown.kind, grown.replace_because) == ("update", ())
    for key, value in (("worker.storage", "8Ti"), ("storage", "200Gi"), ("czar.storage", "3Ti")):
        resized = _qserv_diff(make_project, **{key: value})
        assert resized.kind == "replace", key
        assert resized.protected, "prod's Qserv is protected: replacing it is refused by `up`"


@pytest.mark.parametrize("stack", ["ukdac-dev", "ukdac-test", "ukdac-prod"])
def test_qservs_services_are_sized_apart_from_its_workers(stack: str) -> None:
    """The operator sizes the ingest and replication databases and the replication controller
    from the top-level `storage`, not a worker's terabytes."""
    (qserv,) = custom_resources(planned(stack), "Qserv")
    spec = qserv.inputs["spec"]
    qcfg = config(stack).config.qserv
    assert spec["storage"] == qcfg.storage
    assert spec["worker"]["storage"] == qcfg.worker.storage
    assert spec["storage"] != spec["worker"]["storage"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_ingress_is_reached_as_the_backend_allows(backend: str) -> None:
    """Host ports on the control planes behind ukdac's own entry (kubeadm); a LoadBalancer
    Service the cloud controller makes on Magnum, whose nodes have no floating IP, keeping
    the client's address as phalanx's default does (externalTrafficPolicy Local)."""
    plan = planned("ukdac-prod", backend)
    controller = releases(plan)["ingress-nginx"].inputs["values"]["controller"]
    if backend == "magnum":
        assert controller["service"] == {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
        assert controller["publishService"] == {"enabled": True}
        for key in ("hostPort", "nodeSelector", "tolerations", "kind"):
            assert key not in controller, key
        assert "publish-status-address" not in controller["extraArgs"]
    else:
        assert controller["service"] == {"enabled": False}
        assert controller["hostPort"]["enabled"] is True
        assert controller["kind"] == "DaemonSet"
