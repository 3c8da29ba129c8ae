"""Every node's user data, checked by content: files with their modes, every boot step in
order, and the CNI's resources against the CNI's own schema."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from components.kubeadm.cloud_init import Download, fetch, trust_signing_key
from infra.versions import DOWNLOAD_SHA256, pinned
from tests.support.data import schema_file
from tests.support.stacks import STACKS, config, planned

INSTANCE = "openstack:compute/instance:Instance"
PKI = "/etc/kubernetes/pki"
ADMIN = "kubectl --kubeconfig /etc/kubernetes/admin.conf"

# Every file a node writes, with its mode (None: cloud-init's default, 0644), by role.
BLOCK_UNIT = "/etc/systemd/system/metadata-block.service"
COMMON_FILES = {
    "/etc/modules-load.d/kubernetes.conf": None,
    "/etc/sysctl.d/99-kubernetes.conf": None,
    "/etc/kubernetes/kubeadm.yaml": "0600",
    BLOCK_UNIT: "0644",
}
ADMISSION = "/etc/kubernetes/admission/admission.yaml"
CONTROL_PLANE_FILES = {
    **COMMON_FILES,
    ADMISSION: "0644",
    f"{PKI}/ca.crt": "0644",
    f"{PKI}/ca.key": "0600",
    f"{PKI}/front-proxy-ca.crt": "0644",
    f"{PKI}/front-proxy-ca.key": "0600",
    f"{PKI}/etcd/ca.crt": "0644",
    f"{PKI}/etcd/ca.key": "0600",
    f"{PKI}/sa.key": "0600",
    f"{PKI}/sa.pub": "0644",
}


# pkgs.k8s.io's signing key (`gpg --show-keys Release.key`, as many installers pin it).
KUBERNETES_KEY = "DE15B14486CD377B9E876E1A234654DA9A296436"


def boot_steps(version: str, api_host: str, first_cp: str) -> list[str]:
    """What every node runs, in this order, before kubeadm."""
    minor = ".".join(version.split(".")[:2])
    package = f"{version}-1.1"
    repo = f"https://pkgs.k8s.io/core:/stable:/v{minor}/deb/"
    keyring = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
    return [
        "modprobe overlay",
        "modprobe br_netfilter",
        "sysctl --system",
        "swapoff -a",
        "mkdir -p /etc/containerd && containerd config default | "
        "sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml",
        "systemctl restart containerd",
        # The key is trusted only if it is Kubernetes' (the line's behaviour is tested by
        # running it: tests/components/test_verified_downloads.py).
        trust_signing_key(f"{repo}Release.key", KUBERNETES_KEY, keyring),
        f"echo 'deb [signed-by={keyring}] {repo} /' > /etc/apt/sources.list.d/kubernetes.list",
        "apt-get update",
        f"apt-get install -y kubelet={package} kubeadm={package} kubectl={package}",
        "apt-mark hold kubelet kubeadm kubectl",
        "systemctl enable --now kubelet",
        f"echo '{first_cp} {api_host}' >> /etc/hosts",
    ]


def calico_steps(version: str) -> list[str]:
    base = f"https://raw.githubusercontent.com/projectcalico/calico/{version}/manifests"
    crds, operator = (
        Download(
            f"{base}/{name}",
            f"/etc/kubernetes/cni/{name}",
            DOWNLOAD_SHA256[f"{base}/{name}"].version,
        )
        for name in ("operator-crds.yaml", "tigera-operator.yaml")
    )
    return [
        # Fetched and checked against their pinned digests before anything applies them.
        fetch(crds),
        fetch(operator),
        f"{ADMIN} create -f /etc/kubernetes/cni/operator-crds.yaml",
        f"{ADMIN} create -f /etc/kubernetes/cni/tigera-operator.yaml",
        f"{ADMIN} wait --for condition=established --timeout=120s "
        "crd/installations.operator.tigera.io",
        f"{ADMIN} create -f /etc/kubernetes/cni/calico-resources.yaml",
    ]


def _nodes(stack: str) -> dict[str, dict[str, Any]]:
    plan = planned(stack, show_secrets=True)
    result = {}
    for resource in plan.find(INSTANCE):
        text = resource.inputs["userData"]
        assert text.startswith("#cloud-config\n")
        result[resource.name] = yaml.safe_load(text)
    return result


def _command(step: Any) -> str:
    return step if isinstance(step, str) else " ".join(step)


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_writes_its_files_with_the_right_modes(stack: str) -> None:
    for name, data in _nodes(stack).items():
        files = {f["path"]: f.get("permissions") for f in data["write_files"]}
        owners = {f.get("owner", "root:root") for f in data["write_files"]}
        assert owners == {"root:root"}, name
        if name == "cluster-control-plane-0":
            expected = {**CONTROL_PLANE_FILES, "/etc/kubernetes/cni/calico-resources.yaml": "0644"}
            if config(stack).config.cluster.control_plane.count > 1:
                # Its way back into the cluster when it replaces a lost first node.
                expected["/etc/kubernetes/kubeadm-join.yaml"] = "0600"
        elif "control-plane" in name:
            expected = CONTROL_PLANE_FILES
        else:
            expected = COMMON_FILES
        assert files == expected, name
        private = [p for p, mode in files.items() if p.endswith(".key")]
        assert all(files[p] == "0600" for p in private)


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_boots_in_order(stack: str) -> None:
    d = config(stack)
    version = d.config.cluster.kubernetes_version
    first_cp = d.names.nodes["control-plane"][0]
    address = str(next(iter(d.config.network.node_cidr.hosts())) + 9)  # .10: control plane 0
    assert first_cp.server.endswith("-control-plane-0")
    common = boot_steps(version, d.names.api_host, address)
    # Behind a load balancer every other node reaches the API at its VIP, host .9.
    vip = str(next(iter(d.config.network.node_cidr.hosts())) + 8)
    balanced = d.config.cluster.endpoint == "loadbalancer"
    joining = boot_steps(version, d.names.api_host, vip if balanced else address)
    count = d.config.cluster.control_plane.count
    peers = [str(next(iter(d.config.network.node_cidr.hosts())) + 9 + i) for i in range(1, count)]
    for name, data in _nodes(stack).items():
        steps = [_command(step) for step in data["runcmd"]]
        if name == "cluster-control-plane-0" and len(peers) == 0:
            expected = [
                *common,
                "kubeadm init --config /etc/kubernetes/kubeadm.yaml",
                *calico_steps(pinned("calico")),
            ]
        elif name == "cluster-control-plane-0":
            # Init, or join through a peer when replacing a lost first node (the line's
            # behaviour is tested by running it: tests/components/test_rejoin.py); the pod
            # network goes in only where this boot made a new cluster.
            decision = steps[len(common)]
            assert decision.startswith('peer=""; for a in ' + " ".join(peers) + "; do"), decision
            expected = [
                *common,
                decision,
                *(
                    f"if [ -e /run/ukdac-initialised ]; then {s}; fi"
                    for s in calico_steps(pinned("calico"))
                ),
            ]
        else:
            expected = [*joining, "kubeadm join --config /etc/kubernetes/kubeadm.yaml"]
        # Last, once the node has joined: the metadata service closes for good.
        expected.append("systemctl enable --now metadata-block.service")
        assert steps == expected, name
        assert data["package_update"] is True
        assert data["packages"] == [
            "apt-transport-https",
            "ca-certificates",
            "curl",
            "gpg",
            "containerd",
        ]


@pytest.mark.parametrize("stack", STACKS)
def test_calico_installation_passes_tigeras_schema_with_the_pod_cidr(stack: str) -> None:
    first = _nodes(stack)["cluster-control-plane-0"]
    (resources,) = [
        f["content"] for f in first["write_files"] if f["path"].endswith("calico-resources.yaml")
    ]
    installation, api_server = yaml.safe_load_all(resources)
    schema = json.loads(schema_file("crds/operator.tigera.io_installation_v1.json").read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(installation)]
    assert errors == []
    assert installation["apiVersion"] == "operator.tigera.io/v1"
    assert installation["kind"] == "Installation"
    (pool,) = installation["spec"]["calicoNetwork"]["ipPools"]
    assert pool["cidr"] == str(config(stack).config.network.pod_cidr)
    assert (pool["encapsulation"], pool["natOutgoing"], pool["blockSize"]) == (
        "VXLAN",
        "Enabled",
        26,
    )
    assert installation["spec"]["calicoNetwork"]["bgp"] == "Disabled"
    assert (api_server["apiVersion"], api_server["kind"]) == ("operator.tigera.io/v1", "APIServer")


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_is_written_with_sorted_keys(stack: str) -> None:
    """Key order is part of the bytes: a change of it would replace every server."""
    for name, data in _nodes(stack).items():
        kubeadm = next(
            f["content"] for f in data["write_files"] if f["path"] == "/etc/kubernetes/kubeadm.yaml"
        )
        for document in yaml.safe_load_all(kubeadm):
            keys = list(document)
            assert keys == sorted(keys), name


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_closes_the_metadata_service_and_boots_from_a_config_drive(stack: str) -> None:
    plan = planned(stack, show_secrets=True)
    for resource in plan.find(INSTANCE):
        assert resource.inputs["configDrive"] is True, resource.name
        data = yaml.safe_load(resource.inputs["userData"])
        (unit,) = [f["content"] for f in data["write_files"] if f["path"] == BLOCK_UNIT]
        starts = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
        assert starts == [
            f"ExecStart=/usr/sbin/iptables -w -I {chain} -d 169.254.169.254/32 -j REJECT"
            for chain in ("OUTPUT", "FORWARD")
        ]
        assert "WantedBy=multi-user.target" in unit  # again at every boot
    (secret,) = [r for r in plan.resources if r.name == "cloud-provider-cloud-config"]
    conf = secret.inputs["stringData"]["cloud.conf"]
    assert "[Metadata]\nsearch-order=configDrive\n" in conf


@pytest.mark.parametrize("stack", STACKS)
def test_every_api_server_enforces_pod_security(stack: str) -> None:
    from infra.program.cloud_layer import POD_SECURITY_EXEMPT

    nodes = _nodes(stack)
    control_planes = {n: d for n, d in nodes.items() if "control-plane" in n}
    assert len(control_planes) == config(stack).config.cluster.control_plane.count
    for name, data in control_planes.items():
        (text,) = [f["content"] for f in data["write_files"] if f["path"] == ADMISSION]
        admission = yaml.safe_load(text)
        assert (admission["apiVersion"], admission["kind"]) == (
            "apiserver.config.k8s.io/v1",
            "AdmissionConfiguration",
        )
        (plugin,) = admission["plugins"]
        assert plugin["name"] == "PodSecurity"
        settings = plugin["configuration"]
        assert settings["defaults"]["enforce"] == "baseline", name
        assert settings["defaults"]["audit"] == settings["defaults"]["warn"] == "restricted"
        assert settings["exemptions"]["namespaces"] == sorted(POD_SECURITY_EXEMPT)
    first = control_planes["cluster-control-plane-0"]
    kubeadm = next(f["content"] for f in first["write_files"] if f["path"].endswith("kubeadm.yaml"))
    cluster = list(yaml.safe_load_all(kubeadm))[1]
    server = cluster["apiServer"]
    assert {"name": "admission-control-config-file", "value": ADMISSION} in server["extraArgs"]
    (mount,) = server["extraVolumes"]
    assert mount["hostPath"] == mount["mountPath"] == "/etc/kubernetes/admission"
    assert mount["readOnly"] is True
    for name, data in nodes.items():  # workers carry no API server, so no admission file
        if "control-plane" not in name:
            assert ADMISSION not in {f["path"] for f in data["write_files"]}


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_join_with_the_programs_token_whose_window_follows_each_up(stack: str) -> None:
    """No standing token: kubeadm init lists none, and the one nodes carry is a bootstrap
    token Secret the program keeps, valid for two days after the plan's date (the tests
    fix it at 2026-12-01) and then removed by the token cleaner."""
    first = _nodes(stack)["cluster-control-plane-0"]
    kubeadm = next(f["content"] for f in first["write_files"] if f["path"].endswith("kubeadm.yaml"))
    init = next(d for d in yaml.safe_load_all(kubeadm) if d["kind"] == "InitConfiguration")
    assert "bootstrapTokens" not in init
    plan = planned(stack, show_secrets=True)
    (secret,) = [r for r in plan.resources if r.name == "join-token-secret"]
    data = secret.inputs["stringData"]
    assert secret.inputs["type"] == "bootstrap.kubernetes.io/token"
    assert secret.inputs["metadata"] == {
        "name": f"bootstrap-token-{data['token-id']}",
        "namespace": "kube-system",
    }
    assert data["expiration"] == "2026-12-03T00:00:00Z"
    assert data["usage-bootstrap-authentication"] == data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
    for name, node in _nodes(stack).items():
        path = (
            "/etc/kubernetes/kubeadm-join.yaml"
            if name.endswith("-0") and "control-plane" in name
            else "/etc/kubernetes/kubeadm.yaml"
        )
        text = next((f["content"] for f in node["write_files"] if f["path"] == path), None)
        if text is None:
            continue  # a lone first control plane joins nothing
        (join,) = yaml.safe_load_all(text)
        assert (
            join["discovery"]["bootstrapToken"]["token"]
            == f"{data['token-id']}.{data['token-secret']}"
        )


@pytest.mark.parametrize("backend", ["kubeadm", "kubeadm-cilium"])
@pytest.mark.parametrize("stack", STACKS)
def test_nothing_a_node_downloads_is_used_unchecked(stack: str, backend: str) -> None:
    """Every URL in a boot step is fetched to a file and checked there (sha256 or the
    signing key's fingerprint); apt's source line names the repository apt then verifies."""
    plan = planned(stack, backend, show_secrets=True)
    for resource in plan.find(INSTANCE):
        for step in yaml.safe_load(resource.inputs["userData"])["runcmd"]:
            line = _command(step)
            if "://" not in line or line.startswith("echo 'deb [signed-by="):
                continue
            if all("-o /dev/null" in call for call in re.findall(r"curl [^;|&]*", line)):
                continue  # a probe: reads an answer's status, keeps nothing
            assert "sha256sum -c" in line or "gpg --batch --show-keys" in line, line
            assert "exit 1" in line, line
    # Each fetched file is checked against its pin in the versions table, nothing else.
    checked = set()
    for resource in plan.find(INSTANCE):
        for step in yaml.safe_load(resource.inputs["userData"])["runcmd"]:
            for url, digest in re.findall(r"-o \S+ (\S+) && echo '([0-9a-f]{64}) ", _command(step)):
                assert DOWNLOAD_SHA256[url].version == digest
                checked.add(url)
    assert len(checked) == (1 if backend == "kubeadm-cilium" else 2)  # the CLI; Calico's two
