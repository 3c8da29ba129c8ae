"""The OpenStack layer of every stack, both backends, through the offline engine."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.plan.engine import plan_stack
from infra.plan.ids import fake_id
from infra.plan.model import Plan, PlannedResource, is_secret
from infra.stack.files import load_project
from tests.support import kubeadm_models
from tests.support.data import schema_file
from tests.support.stacks import BACKENDS, ROOT, STACKS, config, planned
from tests.support.values import all_strings

INSTANCE = "openstack:compute/instance:Instance"
RULE = "openstack:networking/secGroupRule:SecGroupRule"
GROUP = "openstack:networking/secGroup:SecGroup"
PORT = "openstack:networking/port:Port"


def by_id(plan: Plan) -> dict[str, PlannedResource]:
    """Resources by the id the fakes give them (ids are what inputs refer to)."""
    return {fake_id(r.urn): r for r in plan.resources if r.custom}


def user_data(resource: PlannedResource) -> dict[str, Any]:
    text = resource.inputs["userData"]
    assert text.startswith("#cloud-config\n")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def written(cloud_config: dict[str, Any], path: str) -> str | None:
    for entry in cloud_config["write_files"]:
        if entry["path"] == path:
            return str(entry["content"])
    return None


def kubeadm_documents(cloud_config: dict[str, Any]) -> list[dict[str, Any]]:
    text = written(cloud_config, "/etc/kubernetes/kubeadm.yaml")
    assert text is not None
    return list(yaml.safe_load_all(text))


def instances(plan: Plan) -> dict[str, PlannedResource]:
    return {r.inputs["name"]: r for r in plan.find(INSTANCE)}


# ---------------------------------------------------------------------------------------------
# Shape of the layer
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_kubeadm_nodes_match_the_config(stack: str) -> None:
    cfg = config(stack).config
    names = set(instances(planned(stack)))
    expected = {f"{stack}-control-plane-{i}" for i in range(cfg.cluster.control_plane.count)}
    for group in cfg.cluster.node_groups:
        expected |= {f"{stack}-{group.name}-{i}" for i in range(group.count)}
    assert names == expected
    server_groups = {
        r.inputs["name"]: r.inputs["policies"]
        for r in planned(stack).find("openstack:compute/serverGroup:ServerGroup")
    }
    assert server_groups[f"{stack}-control-plane"] == "anti-affinity"
    assert all(
        server_groups[f"{stack}-{g.name}"] == "soft-anti-affinity" for g in cfg.cluster.node_groups
    )


@pytest.mark.parametrize("stack", STACKS)
def test_node_addresses_in_the_nodes_output_are_distinct_hosts_of_the_node_subnet(
    stack: str,
) -> None:
    """The offline cloud gives a port without a fixed address one from its own subnet, as
    Neutron does: the plan's `nodes` output shows addresses a reviewer can trust."""
    cfg = config(stack).config
    nodes = planned(stack).outputs["nodes"]
    addresses = [node["ip"] for group in nodes.values() for node in group]
    assert len(addresses) == len(set(addresses)) == len(instances(planned(stack)))
    subnet = ipaddress.ip_network(str(cfg.network.node_cidr))
    for address in addresses:
        host = ipaddress.ip_address(address)
        assert host in subnet and host not in (subnet.network_address, subnet.broadcast_address)


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_sits_on_its_own_port_with_security_groups(stack: str) -> None:
    plan = planned(stack)
    ids = by_id(plan)
    for name, instance in instances(plan).items():
        (network,) = instance.inputs["networks"]
        port = ids[network["port"]]
        assert port.type == PORT and port.inputs["name"] == f"{name}-port"
        groups = {ids[g].inputs["name"] for g in port.inputs["securityGroupIds"]}
        role = "control-plane" if "-control-plane-" in name else "workers"
        expected = {f"{stack}-{role}"}
        balanced = config(stack).config.cluster.endpoint == "loadbalancer"
        if name == f"{stack}-control-plane-0" and not balanced:
            expected.add(
                f"{stack}-ingress"
            )  # the floating IP's port (tests/program/test_entry_point.py)
        assert groups == expected, name
        assert instance.inputs["keyPair"] == f"{stack}-keypair"


@pytest.mark.parametrize("stack", STACKS)
def test_floating_ip_is_the_entry_and_the_api_url(stack: str) -> None:
    """On control plane 0's port, or on the load balancer's VIP (test_entry_point.py)."""
    plan = planned(stack)
    ids = by_id(plan)
    (association,) = plan.find("openstack:networking/floatingIpAssociate:FloatingIpAssociate")
    if config(stack).config.cluster.endpoint == "floating-ip":
        assert ids[association.inputs["portId"]].inputs["name"] == f"{stack}-control-plane-0-port"
    (fip,) = plan.find("openstack:networking/floatingIp:FloatingIp")
    assert fip.inputs["pool"] == config(stack).config.cloud.external_network
    assert plan.outputs["apiUrl"] == f"https://{association.inputs['floatingIp']}:6443"
    assert plan.outputs["controlPlaneIp"] == association.inputs["floatingIp"]


# ---------------------------------------------------------------------------------------------
# Security groups
# ---------------------------------------------------------------------------------------------


def _rules(plan: Plan) -> list[tuple[str, PlannedResource, str]]:
    """(target group name, rule, source: a CIDR or a group name) for every ingress rule."""
    ids = by_id(plan)
    result = []
    for rule in plan.find(RULE):
        if rule.inputs["direction"] != "ingress":
            continue
        target = ids[rule.inputs["securityGroupId"]].inputs["name"]
        source = (
            rule.inputs.get("remoteIpPrefix") or ids[rule.inputs["remoteGroupId"]].inputs["name"]
        )
        result.append((target, rule, source))
    return result


def _covers(rule: PlannedResource, port: int) -> bool:
    low, high = rule.inputs.get("portRangeMin"), rule.inputs.get("portRangeMax")
    return low is not None and low <= port <= high


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_is_open_to_the_world_but_http_and_https_on_the_ingress_group(stack: str) -> None:
    for target, rule, source in _rules(planned(stack)):
        if source in ("0.0.0.0/0", "::/0"):
            assert target == f"{stack}-ingress", rule.name
            assert rule.inputs["protocol"] == "tcp"
            assert (rule.inputs["portRangeMin"], rule.inputs["portRangeMax"]) in {
                (80, 80),
                (443, 443),
            }


@pytest.mark.parametrize("stack", STACKS)
def test_ssh_and_api_only_from_admins_and_the_cluster(stack: str) -> None:
    admin = {str(c) for c in config(stack).config.cloud.admin_cidrs}
    cluster = {f"{stack}-control-plane", f"{stack}-workers"}
    if config(stack).config.cluster.endpoint == "loadbalancer":
        # The balancer's amphorae, on the node subnet; outsiders meet its allowed CIDRs.
        cluster.add(str(config(stack).config.network.node_cidr))
    seen: dict[int, set[str]] = {22: set(), 6443: set()}
    for _, rule, source in _rules(planned(stack)):
        for port, sources in seen.items():
            if rule.inputs["protocol"] == "tcp" and _covers(rule, port):
                assert source in admin | cluster, (port, source)
                sources.add(source)
    assert seen[22] == admin  # SSH: administrators only, not even the cluster
    assert seen[6443] == admin | cluster


@pytest.mark.parametrize("stack", STACKS)
def test_etcd_is_control_plane_only_and_groups_are_default_deny(stack: str) -> None:
    plan = planned(stack)
    etcd = [(t, s) for t, r, s in _rules(plan) if _covers(r, 2379) or _covers(r, 2380)]
    assert etcd == [(f"{stack}-control-plane", f"{stack}-control-plane")]
    assert all(g.inputs["deleteDefaultRules"] is True for g in plan.find(GROUP))


@pytest.mark.parametrize("stack", STACKS)
def test_cni_encapsulation_is_open_within_the_cluster_only(stack: str) -> None:
    vxlan = {"calico": 4789, "cilium": 8472}[config(stack).config.cluster.cni]
    sources = {
        (t, s)
        for t, r, s in _rules(planned(stack))
        if r.inputs["protocol"] == "udp" and _covers(r, vxlan)
    }
    cluster = {f"{stack}-control-plane", f"{stack}-workers"}
    assert sources == {(t, s) for t in cluster for s in cluster}


# ---------------------------------------------------------------------------------------------
# User data and kubeadm
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_is_secret_in_a_plan(stack: str) -> None:
    for instance in instances(planned(stack)).values():
        assert is_secret(instance.inputs["userData"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_user_data_passes_the_cloud_init_schema(stack: str) -> None:
    schema = json.loads(schema_file("cloud-init/schema-cloud-config-v1.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    for name, instance in instances(planned(stack, show_secrets=True)).items():
        errors = [e.message for e in validator.iter_errors(user_data(instance))]
        assert errors == [], (name, errors[:3])


@pytest.mark.parametrize("stack", STACKS)
def test_kubeadm_documents_pass_the_strict_model(stack: str) -> None:
    cfg = config(stack).config
    kinds: dict[str, list[str]] = {}
    for name, instance in instances(planned(stack, show_secrets=True)).items():
        docs = [kubeadm_models.parse(d) for d in kubeadm_documents(user_data(instance))]
        kinds[name] = sorted(type(d).__name__ for d in docs)
        for doc in docs:
            if isinstance(doc, kubeadm_models.ClusterConfiguration):
                assert doc.kubernetesVersion == f"v{cfg.cluster.kubernetes_version}"
                assert doc.networking.podSubnet == str(cfg.network.pod_cidr)
                assert doc.networking.serviceSubnet == str(cfg.network.service_cidr)
                assert {"name": "cloud-provider", "value": "external"} in [
                    a.model_dump() for a in doc.controllerManager.extraArgs
                ]
    assert kinds[f"{stack}-control-plane-0"] == [
        "ClusterConfiguration",
        "InitConfiguration",
        "KubeletConfiguration",
    ]
    assert all(
        k == ["JoinConfiguration"] for n, k in kinds.items() if n != f"{stack}-control-plane-0"
    )


def _documents_of(stack: str) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    nodes = {n: user_data(i) for n, i in instances(planned(stack, show_secrets=True)).items()}
    return nodes, {n: kubeadm_documents(c) for n, c in nodes.items()}


@pytest.mark.parametrize("stack", STACKS)
def test_join_hash_is_the_hash_of_the_ca_and_token_matches(stack: str) -> None:
    nodes, docs = _documents_of(stack)
    first = f"{stack}-control-plane-0"
    ca_pem = written(nodes[first], "/etc/kubernetes/pki/ca.crt")
    assert ca_pem is not None
    spki = (
        x509.load_pem_x509_certificate(ca_pem.encode())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    expected = "sha256:" + hashlib.sha256(spki).hexdigest()
    (secret,) = [
        r for r in planned(stack, show_secrets=True).resources if r.name == "join-token-secret"
    ]
    token = (
        f"{secret.inputs['stringData']['token-id']}.{secret.inputs['stringData']['token-secret']}"
    )
    for name, node_docs in docs.items():
        if name == first:
            continue
        (join,) = node_docs
        assert join["discovery"]["bootstrapToken"]["caCertHashes"] == [expected]
        assert join["discovery"]["bootstrapToken"]["token"] == token


@pytest.mark.parametrize("stack", STACKS)
def test_api_server_sans_hold_the_floating_ip_and_fqdn(stack: str) -> None:
    plan = planned(stack, show_secrets=True)
    (association,) = plan.find("openstack:networking/floatingIpAssociate:FloatingIpAssociate")
    _, docs = _documents_of(stack)
    (cluster,) = [
        d for d in docs[f"{stack}-control-plane-0"] if d["kind"] == "ClusterConfiguration"
    ]
    sans = cluster["apiServer"]["certSANs"]
    assert association.inputs["floatingIp"] in sans
    assert config(stack).config.fqdn in sans


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_reach_the_api_by_a_name_pinned_to_control_plane_0(stack: str) -> None:
    """Without a load balancer; behind one, see tests/program/test_entry_point.py."""
    plan = planned(stack, show_secrets=True)
    ids = by_id(plan)
    first = instances(plan)[f"{stack}-control-plane-0"]
    address = ids[first.inputs["networks"][0]["port"]].inputs["fixedIps"][0]["ipAddress"]
    nodes, docs = _documents_of(stack)
    balanced = config(stack).config.cluster.endpoint == "loadbalancer"
    for name, cloud_config in nodes.items():
        if balanced and name != f"{stack}-control-plane-0":
            continue
        hosts_line = f"echo '{address} kube-api.{stack}.internal' >> /etc/hosts"
        assert hosts_line in cloud_config["runcmd"], name
    (init,) = [d for d in docs[f"{stack}-control-plane-0"] if d["kind"] == "InitConfiguration"]
    assert init["localAPIEndpoint"]["advertiseAddress"] == address


@pytest.mark.parametrize("stack", STACKS)
def test_packages_are_pinned_to_the_configured_version(stack: str) -> None:
    version = config(stack).config.cluster.kubernetes_version
    minor = ".".join(version.split(".")[:2])
    nodes, _ = _documents_of(stack)
    for name, cloud_config in nodes.items():
        commands = [
            c
            for c in cloud_config["runcmd"]
            if isinstance(c, list) and c[:2] == ["apt-get", "install"]
        ]
        assert commands == [
            [
                "apt-get",
                "install",
                "-y",
                f"kubelet={version}-1.1",
                f"kubeadm={version}-1.1",
                f"kubectl={version}-1.1",
            ]
        ], name
        assert any(f"core:/stable:/v{minor}/deb/" in str(c) for c in cloud_config["runcmd"])


@pytest.mark.parametrize("stack", STACKS)
def test_only_control_planes_hold_the_ca_key(stack: str) -> None:
    nodes, _ = _documents_of(stack)
    for name, cloud_config in nodes.items():
        has_key = written(cloud_config, "/etc/kubernetes/pki/ca.key") is not None
        assert has_key == ("-control-plane-" in name), name


def test_user_data_is_identical_across_two_plans() -> None:
    first = {
        n: i.inputs["userData"]
        for n, i in instances(planned("ukdac-prod", show_secrets=True)).items()
    }
    again = plan_stack(load_project(ROOT), "ukdac-prod", show_secrets=True)
    assert {n: i.inputs["userData"] for n, i in instances(again).items()} == first


@pytest.mark.parametrize("stack", STACKS)
def test_kubeconfig_is_secret_and_works_with_the_cluster_ca(stack: str) -> None:
    assert is_secret(planned(stack).outputs["kubeconfig"])
    plan = planned(stack, show_secrets=True)
    kubeconfig = yaml.safe_load(plan.outputs["kubeconfig"])
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"] == plan.outputs["apiUrl"]
    nodes, _ = _documents_of(stack)
    ca_pem = written(nodes[f"{stack}-control-plane-0"], "/etc/kubernetes/pki/ca.crt")
    assert base64.b64decode(cluster["certificate-authority-data"]).decode() == ca_pem
    client = x509.load_pem_x509_certificate(
        base64.b64decode(kubeconfig["users"][0]["user"]["client-certificate-data"])
    )
    ca = x509.load_pem_x509_certificate(str(ca_pem).encode())
    public = ca.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        client.signature, client.tbs_certificate_bytes, ec.ECDSA(client.signature_hash_algorithm)
    )  # type: ignore[arg-type]
    orgs = client.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert [o.value for o in orgs] == ["kubeadm:cluster-admins"]


# ---------------------------------------------------------------------------------------------
# Buckets, credentials, protection
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_buckets_credentials_and_protection(stack: str) -> None:
    d = config(stack)
    plan = planned(stack)
    containers = {
        r.inputs["name"]: r for r in plan.find("openstack:objectstorage/container:Container")
    }
    assert set(containers) == {b.physical_name for b in d.buckets}
    for bucket in d.buckets:
        options = containers[bucket.physical_name].options
        assert options.get("protect", False) == d.protect_stateful
        assert options.get("retainOnDelete", False) == bucket.retain
    assert plan.outputs["buckets"] == [b.physical_name for b in d.buckets]
    assert plan.outputs["s3Endpoint"] == d.config.buckets.s3_endpoint
    for key in ("s3AccessKey", "s3SecretKey", "cloudConf", "kubeconfig"):
        assert is_secret(plan.outputs[key]), key


def test_prod_is_protected_and_retains_its_buckets() -> None:
    containers = planned("ukdac-prod").find("openstack:objectstorage/container:Container")
    assert containers and all(
        c.options.get("protect") and c.options.get("retainOnDelete") for c in containers
    )


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_conf_holds_what_occm_and_csi_read(stack: str) -> None:
    plan = planned(stack, show_secrets=True)
    text = plan.outputs["cloudConf"]
    (credential,) = plan.find("openstack:identity/applicationCredential:ApplicationCredential")
    assert credential.inputs["unrestricted"] is False
    assert credential.inputs["roles"] == config(stack).config.cloud.application_credential_roles
    assert "[Global]\nauth-url=https://identity.offline.invalid:5000/v3\n" in text
    assert f"application-credential-id={fake_id(credential.urn)}\n" in text
    assert f"region={config(stack).config.cloud.region}\n" in text
    ext = fake_id("network", config(stack).config.cloud.external_network)
    assert f"[LoadBalancer]\nfloating-network-id={ext}\n" in text


# ---------------------------------------------------------------------------------------------
# Magnum backend
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_magnum_backend_declares_template_cluster_and_node_groups(stack: str) -> None:
    cfg = config(stack).config
    plan = planned(stack, "magnum")
    assert not plan.find(INSTANCE) and not plan.find(GROUP)
    (template,) = plan.find("openstack:containerinfra/clusterTemplate:ClusterTemplate")
    labels = template.inputs["labels"]
    assert labels["kube_tag"] == f"v{cfg.cluster.kubernetes_version}"
    assert labels["cloud_provider_enabled"] == "true"
    assert labels["ingress_controller"] == "" and labels["cinder_csi_enabled"] == "false"
    (cluster,) = plan.find("openstack:containerinfra/cluster:Cluster")
    assert cluster.inputs["masterCount"] == cfg.cluster.control_plane.count
    assert cluster.inputs["nodeCount"] == cfg.cluster.node_groups[0].count
    assert (
        cluster.options["customTimeouts"]["create"]
        == f"{cfg.cluster.magnum.create_timeout_minutes}m"
    )
    groups = plan.find("openstack:containerinfra/nodeGroup:NodeGroup")
    assert sorted(g.inputs["name"] for g in groups) == sorted(
        g.name for g in cfg.cluster.node_groups[1:]
    )
    assert is_secret(plan.outputs["kubeconfig"])
    assert "kubeconfig" in cluster.options["additionalSecretOutputs"]


# ---------------------------------------------------------------------------------------------
# Provider schema
# ---------------------------------------------------------------------------------------------


def _check_type(value: Any, spec: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    if is_secret(value):
        return []
    if "$ref" in spec:
        ref = spec["$ref"].removeprefix("#/types/")
        spec = schema["types"][ref]
    kind = spec.get("type")
    problems: list[str] = []
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    if kind in checks and not checks[kind](value):
        return [f"{path}: {value!r} is not {kind}"]
    if kind == "array":
        for i, item in enumerate(value):
            problems += _check_type(item, spec.get("items", {}), schema, f"{path}[{i}]")
    elif kind == "object" and "properties" in spec:
        for key, item in value.items():
            if key not in spec["properties"]:
                problems.append(f"{path}.{key}: not a property")
            else:
                problems += _check_type(item, spec["properties"][key], schema, f"{path}.{key}")
    elif kind == "object" and "additionalProperties" in spec:
        for key, item in value.items():
            problems += _check_type(item, spec["additionalProperties"], schema, f"{path}.{key}")
    return problems


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_openstack_inputs_have_the_provider_schema_types(stack: str, backend: str) -> None:
    schema = json.loads(schema_file("pulumi-openstack/schema.json").read_text())
    problems = []
    for resource in planned(stack, backend, show_secrets=True).resources:
        if resource.type == "pulumi:providers:openstack":
            spec = {"type": "object", "properties": schema["config"]["variables"]}
            problems += _check_type(resource.inputs, spec, schema, resource.name)
            continue
        if not resource.type.startswith("openstack:"):
            continue
        inputs = schema["resources"][resource.type]["inputProperties"]
        spec = {"type": "object", "properties": inputs}
        problems += _check_type(resource.inputs, spec, schema, resource.name)
    assert problems == []


def test_user_data_does_not_depend_on_how_pyyaml_was_built() -> None:
    """libyaml's emitter is used when present; the pure-Python one must write the same bytes."""
    for name, instance in instances(planned("ukdac-prod", show_secrets=True)).items():
        text = instance.inputs["userData"]
        data = yaml.safe_load(text)
        python = yaml.dump(data, Dumper=yaml.SafeDumper, sort_keys=False, width=4096)
        assert text == "#cloud-config\n" + python, name
        kubeadm = written(data, "/etc/kubernetes/kubeadm.yaml")
        assert kubeadm == yaml.dump_all(
            list(yaml.safe_load_all(str(kubeadm))), Dumper=yaml.SafeDumper, sort_keys=True
        )


def _secret_values(masked: Any, revealed: Any) -> list[str]:
    """The plain values behind every masked value of a plan (walking both plans together)."""
    if is_secret(masked):
        # A `secure:` config value stays masked even revealed: offline, nothing decrypts it.
        return [s for s in all_strings(revealed) if len(s) >= 8 and not is_secret(s)]
    if isinstance(masked, dict) and isinstance(revealed, dict):
        return [v for k in masked for v in _secret_values(masked[k], revealed.get(k))]
    if isinstance(masked, list) and isinstance(revealed, list):
        return [v for m, r in zip(masked, revealed, strict=False) for v in _secret_values(m, r)]
    return []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_value_leaks_anywhere_in_a_masked_plan(stack: str, backend: str) -> None:
    masked = planned(stack, backend).model_dump(by_alias=True)
    revealed = planned(stack, backend, show_secrets=True).model_dump(by_alias=True)
    secrets = set(_secret_values(masked, revealed))
    assert secrets, "the plan should hold secrets (keys, tokens, credentials)"
    strings = all_strings(masked)
    leaked = {s[:40] for s in secrets for text in strings if s in text}
    assert leaked == set()


@pytest.mark.parametrize("stack", STACKS)
def test_magnum_says_when_its_api_is_open_to_everyone(stack: str) -> None:
    """Without a master load balancer Magnum's own security group opens the API to all."""
    plan = planned(stack, "magnum")
    (template,) = plan.find("openstack:containerinfra/clusterTemplate:ClusterTemplate")
    behind_lb = template.inputs["masterLbEnabled"]
    warned = any("opens the Kubernetes API of its masters" in w for w in plan.warnings)
    assert warned is not behind_lb
    if behind_lb:
        admins = ",".join(str(c) for c in config(stack).config.cloud.admin_cidrs)
        assert template.inputs["labels"]["master_lb_allowed_cidrs"] == admins


@pytest.mark.parametrize("stack", STACKS)
def test_behind_magnums_master_balancer_no_node_has_a_floating_ip(
    stack: str, make_project: Any
) -> None:
    plan = planned(stack, "magnum")
    (template,) = plan.find("openstack:containerinfra/clusterTemplate:ClusterTemplate")
    assert template.inputs["masterLbEnabled"] is True  # the default
    assert template.inputs["floatingIpEnabled"] is False
    assert template.inputs["labels"]["master_lb_floating_ip_enabled"] == "true"
    # The entry's address is the balancer's, from the API URL Magnum reports.
    api = plan.outputs["apiUrl"]
    assert plan.outputs["controlPlaneIp"] == api.split("://")[1].rsplit(":", 1)[0]
    if stack != "ukdac-dev":
        return
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    document["config"]["ukdac:cluster"] = {
        "backend": "magnum",
        "magnum": {"masterLbEnabled": False},
    }
    bare = plan_stack(make_project({stack: document}), stack)
    (template,) = bare.find("openstack:containerinfra/clusterTemplate:ClusterTemplate")
    assert template.inputs["floatingIpEnabled"] is True  # Magnum's only way to the API then
    assert any("gives every node a floating IP" in w for w in bare.warnings)


FLOATING_IP_USERS = (
    "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
    "openstack:containerinfra/cluster:Cluster",  # Magnum gives its nodes floating IPs
)


def _ancestors(plan: Plan, resource: PlannedResource) -> set[str]:
    """Every URN `resource` waits for: its dependencies, theirs, and so on."""
    by_urn = plan.by_urn()
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(by_urn[urn].dependencies if urn in by_urn else ())
    return seen


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_floating_ips_wait_for_the_router_interface(stack: str, backend: str) -> None:
    """Neutron refuses a floating IP on a subnet that does not reach the external network
    yet (ExternalGatewayForFloatingIPNotFound): the real engine's first `up` failed two runs
    in three before every association waited for the router interface."""
    plan = planned(stack, backend)
    (interface,) = plan.find("openstack:networking/routerInterface:RouterInterface")
    users = [r for r in plan.resources if r.type in FLOATING_IP_USERS]
    assert users
    for resource in users:
        assert interface.urn in _ancestors(plan, resource), resource.name
