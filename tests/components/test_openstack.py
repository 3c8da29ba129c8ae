"""Each OpenStack component alone, under the offline engine, with arguments chosen by the test."""

from __future__ import annotations

import pulumi
import pulumi_openstack as openstack
import pytest
import yaml

from components.kubeadm import cloud_init
from components.kubeadm.documents import Taint
from components.openstack.cloud_credentials import (
    CloudCredentials,
    CloudCredentialsArgs,
    render_cloud_conf,
)
from components.openstack.kubeadm_cluster import (
    ControlPlaneSpec,
    KubeadmCluster,
    KubeadmClusterArgs,
    NodeGroupSpec,
    NodeNames,
)
from components.openstack.magnum_cluster import (
    MagnumCluster,
    MagnumClusterArgs,
    MagnumNodeGroupSpec,
)
from components.openstack.object_store import BucketSpec, ObjectStore, ObjectStoreArgs
from components.openstack.security_groups import SecurityGroups, SecurityGroupsArgs
from components.openstack.security_rules import Rule
from infra.plan.engine import PlanError, run_callable
from infra.plan.ids import fake_id
from infra.plan.model import Plan, is_secret

RULE = "openstack:networking/secGroupRule:SecGroupRule"


def test_security_groups_expand_sources_into_rules() -> None:
    rules = (
        Rule(("control-plane",), "tcp", 6443, 6443, "admin", "api"),
        Rule(("workers",), "tcp", 10250, 10250, "cluster", "kubelet"),
        Rule(("ingress",), "tcp", 443, 443, "world", "https"),
        Rule(("control-plane",), "tcp", 2379, 2380, "control-plane", "etcd"),
    )

    def program() -> None:
        SecurityGroups(
            "sg",
            SecurityGroupsArgs(
                names={g: f"s-{g}" for g in ("control-plane", "workers", "ingress")},
                owner="s",
                admin_cidrs=("192.0.2.0/24", "2001:db8::/48"),
                rules=rules,
            ),
        )

    plan = run_callable(program)
    groups = {
        fake_id(r.urn): r.inputs["name"]
        for r in plan.find("openstack:networking/secGroup:SecGroup")
    }
    assert sorted(groups.values()) == ["s-control-plane", "s-ingress", "s-workers"]
    seen = set()
    for rule in plan.find(RULE):
        i = rule.inputs
        target = groups[i["securityGroupId"]]
        source = i.get("remoteIpPrefix") or groups.get(i.get("remoteGroupId", ""), "any")
        seen.add((i["direction"], target, i.get("portRangeMin"), i["ethertype"], source))
    assert seen == {
        ("egress", "s-control-plane", None, "IPv4", "any"),
        ("egress", "s-control-plane", None, "IPv6", "any"),
        ("egress", "s-workers", None, "IPv4", "any"),
        ("egress", "s-workers", None, "IPv6", "any"),
        ("ingress", "s-control-plane", 6443, "IPv4", "192.0.2.0/24"),
        ("ingress", "s-control-plane", 6443, "IPv6", "2001:db8::/48"),
        ("ingress", "s-workers", 10250, "IPv4", "s-control-plane"),
        ("ingress", "s-workers", 10250, "IPv4", "s-workers"),
        ("ingress", "s-ingress", 443, "IPv4", "0.0.0.0/0"),
        ("ingress", "s-ingress", 443, "IPv6", "::/0"),
        ("ingress", "s-control-plane", 2379, "IPv4", "s-control-plane"),
    }
    (etcd,) = [r for r in plan.find(RULE) if r.inputs.get("portRangeMin") == 2379]
    assert etcd.inputs["portRangeMax"] == 2380


def _kubeadm_program(**changes: object) -> Plan:
    args = dict(
        cluster_name="c",
        keypair_name="c-keys",
        api_host="api.c.internal",
        floating_ip_description="c entry",
        kubernetes_version="1.35.3",
        image_name="ubuntu",
        public_key="ssh-ed25519 AAAA x",
        network_id="net",
        subnet_id="subnet",
        node_cidr="10.1.0.0/24",
        pod_cidr="10.244.0.0/16",
        service_cidr="10.96.0.0/12",
        floating_ip_pool="external",
        control_plane=ControlPlaneSpec(
            "cp.flavor", "c-cps", (NodeNames("c-cp-0", "c-cp-0-p", "control-plane-0"),)
        ),
        node_groups=(
            NodeGroupSpec(
                "gpu",
                "gpu.flavor",
                "c-gpus",
                (
                    NodeNames("c-gpu-0", "c-gpu-0-p", "gpu-0"),
                    NodeNames("c-gpu-1", "c-gpu-1-p", "gpu-1"),
                ),
                labels=(("tier", "gpu"),),
                taints=(Taint("nvidia.com/gpu", "true", "NoSchedule"),),
            ),
        ),
        security_group_ids={"control-plane": "sg-cp", "workers": "sg-w", "ingress": "sg-in"},
        cni=cloud_init.CniInstall(commands=("echo cni",)),
        apt_key_fingerprint="0123456789ABCDEF0123456789ABCDEF01234567",
        api_sans=("api.example.org",),
    )
    args.update(changes)

    def program() -> None:
        provider = openstack.Provider("os", cloud="c")
        KubeadmCluster(
            "k", KubeadmClusterArgs(**args), pulumi.ResourceOptions(providers=[provider])
        )  # type: ignore[arg-type]

    return run_callable(program, show_secrets=True)


def test_kubeadm_cluster_alone_builds_nodes_from_its_arguments() -> None:
    plan = _kubeadm_program()
    instances = {r.inputs["name"]: r for r in plan.find("openstack:compute/instance:Instance")}
    assert set(instances) == {"c-cp-0", "c-gpu-0", "c-gpu-1"}
    # Logical names come from the component's name and each node's key, never the physical name.
    assert {r.name for r in instances.values()} == {"k-control-plane-0", "k-gpu-0", "k-gpu-1"}
    ports = {r.inputs["name"] for r in plan.find("openstack:networking/port:Port")}
    assert ports == {"c-cp-0-p", "c-gpu-0-p", "c-gpu-1-p"}
    groups = {r.inputs["name"] for r in plan.find("openstack:compute/serverGroup:ServerGroup")}
    assert groups == {"c-cps", "c-gpus"}
    (keypair,) = plan.find("openstack:compute/keypair:Keypair")
    assert keypair.inputs["name"] == "c-keys"
    assert instances["c-gpu-0"].inputs["metadata"] == {"node-group": "gpu"}
    assert instances["c-gpu-0"].inputs["flavorName"] == "gpu.flavor"
    assert instances["c-gpu-0"].inputs["imageName"] == "ubuntu"
    worker = yaml.safe_load(instances["c-gpu-1"].inputs["userData"])
    (join,) = yaml.safe_load_all(
        next(f["content"] for f in worker["write_files"] if f["path"].endswith("kubeadm.yaml"))
    )
    registration = join["nodeRegistration"]
    assert registration["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]
    assert {"name": "node-labels", "value": "tier=gpu"} in registration["kubeletExtraArgs"]
    first = yaml.safe_load(instances["c-cp-0"].inputs["userData"])
    # The CNI goes in after kubeadm init; last of all, the metadata service closes.
    assert first["runcmd"][-2:] == [
        "echo cni",
        ["systemctl", "enable", "--now", "metadata-block.service"],
    ]
    assert ["kubeadm", "init", "--config", "/etc/kubernetes/kubeadm.yaml"] in first["runcmd"]
    # Workers wait for the first control plane to exist.
    assert instances["c-cp-0"].urn in instances["c-gpu-0"].dependencies


def test_kubeadm_cluster_boots_from_volume_and_adds_address_pairs_when_asked() -> None:
    plan = _kubeadm_program(boot_volume_size=80, allowed_address_cidrs=("10.244.0.0/16",))
    (invoke,) = [i for i in plan.invokes if i.token == "openstack:images/getImage:getImage"]
    assert invoke.args["name"] == "ubuntu"
    for instance in plan.find("openstack:compute/instance:Instance"):
        (device,) = instance.inputs["blockDevices"]
        assert device["uuid"] == fake_id("image", "ubuntu") and device["volumeSize"] == 80
        assert device["destinationType"] == "volume" and "imageName" not in instance.inputs
    for port in plan.find("openstack:networking/port:Port"):
        assert port.inputs["allowedAddressPairs"] == [{"ipAddress": "10.244.0.0/16"}]


def test_kubeadm_control_planes_join_with_the_shared_pki() -> None:
    three = tuple(
        NodeNames(f"c-control-plane-{i}", f"c-cp-{i}-port", f"control-plane-{i}") for i in range(3)
    )
    plan = _kubeadm_program(control_plane=ControlPlaneSpec("cp.flavor", "c-cps", three))
    instances = {r.inputs["name"]: r for r in plan.find("openstack:compute/instance:Instance")}
    for index in (1, 2):
        config = yaml.safe_load(instances[f"c-control-plane-{index}"].inputs["userData"])
        (join,) = yaml.safe_load_all(
            next(f["content"] for f in config["write_files"] if f["path"].endswith("kubeadm.yaml"))
        )
        assert join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == f"10.1.0.1{index}"
        paths = {f["path"] for f in config["write_files"]}
        assert {
            "/etc/kubernetes/pki/ca.key",
            "/etc/kubernetes/pki/etcd/ca.key",
            "/etc/kubernetes/pki/sa.key",
        } <= paths


def test_magnum_cluster_alone() -> None:
    def program() -> None:
        MagnumCluster(
            "m",
            MagnumClusterArgs(
                cluster_name="m",
                keypair_name="m-keys",
                template_name="m-template",
                kubernetes_version="1.35.3",
                image_name="fcos",
                public_key="ssh-ed25519 AAAA x",
                external_network_id="ext",
                network_id="n",
                subnet_id="s",
                dns_nameserver="1.1.1.1",
                control_plane_flavor="cp",
                control_plane_count=3,
                node_groups=(MagnumNodeGroupSpec("a", "fa", 2), MagnumNodeGroupSpec("b", "fb", 1)),
                boot_volume_size=40,
                master_lb_enabled=True,
                api_allowed_cidrs=("192.0.2.0/24", "198.51.100.7/32"),
            ),
        )

    plan = run_callable(program)
    (template,) = plan.find("openstack:containerinfra/clusterTemplate:ClusterTemplate")
    assert template.inputs["labels"]["boot_volume_size"] == "40"
    # The masters' load balancer admits only the administrators (Magnum's label).
    assert template.inputs["labels"]["master_lb_allowed_cidrs"] == "192.0.2.0/24,198.51.100.7/32"
    assert template.inputs["masterLbEnabled"] is True
    (group,) = plan.find("openstack:containerinfra/nodeGroup:NodeGroup")
    assert (group.inputs["name"], group.inputs["nodeCount"], group.inputs["flavorId"]) == (
        "b",
        1,
        "fb",
    )

    def empty() -> None:
        MagnumCluster(
            "m",
            MagnumClusterArgs(
                cluster_name="m",
                keypair_name="m-keys",
                template_name="m-template",
                kubernetes_version="1.35.3",
                image_name="x",
                public_key="k",
                external_network_id="e",
                network_id="n",
                subnet_id="s",
                dns_nameserver="1.1.1.1",
                control_plane_flavor="f",
                control_plane_count=1,
                node_groups=(),
            ),
        )

    with pytest.raises(PlanError, match="at least one node group"):
        run_callable(empty)


def test_object_store_alone() -> None:
    def program() -> None:
        store = ObjectStore(
            "o",
            ObjectStoreArgs(
                buckets=(BucketSpec("a", retain=True, protect=True), BucketSpec("b")),
                s3_endpoint="https://s3.example.org",
            ),
        )
        pulumi.export("access", store.access_key)
        pulumi.export("secret", store.secret_key)

    plan = run_callable(program)
    containers = {
        r.inputs["name"]: r.options
        for r in plan.find("openstack:objectstorage/container:Container")
    }
    assert containers == {"a": {"protect": True, "retainOnDelete": True}, "b": {}}
    assert is_secret(plan.outputs["access"]) and is_secret(plan.outputs["secret"])


def test_cloud_conf_renders_the_ini_the_cloud_provider_reads() -> None:
    text = render_cloud_conf(
        "R1", ["https://keystone:5000/v3", "cred-id", "s3cr3t", "ext-id", "sub-id"]
    )
    assert text == (
        "[Global]\nauth-url=https://keystone:5000/v3\napplication-credential-id=cred-id\n"
        "application-credential-secret=s3cr3t\nregion=R1\n\n"
        "[LoadBalancer]\nfloating-network-id=ext-id\nsubnet-id=sub-id\n"
        "[Metadata]\nsearch-order=configDrive\n"
    )

    def program() -> None:
        creds = CloudCredentials(
            "cc",
            CloudCredentialsArgs(
                name="x",
                region="R1",
                auth_url="https://k/v3",
                floating_network_id="e",
                subnet_id="s",
            ),
        )
        pulumi.export("conf", creds.cloud_conf)

    plan = run_callable(program)
    assert is_secret(plan.outputs["conf"])
    (credential,) = plan.find("openstack:identity/applicationCredential:ApplicationCredential")
    assert credential.options["additionalSecretOutputs"] == ["secret"]


def test_without_a_config_drive_nodes_keep_the_metadata_service() -> None:
    """The caller's choice: a cloud without config drives keeps metadata reachable."""
    for drive in (True, False):
        plan = _kubeadm_program(config_drive=drive)
        for instance in plan.find("openstack:compute/instance:Instance"):
            assert instance.inputs.get("configDrive", False) is drive
            data = yaml.safe_load(instance.inputs["userData"])
            paths = {f["path"] for f in data["write_files"]}
            assert ("/etc/systemd/system/metadata-block.service" in paths) is drive


def _commands(install: cloud_init.CniInstall) -> str:
    return "\n".join(install.commands)


def test_both_cnis_serve_the_host_ports_the_ingress_controller_binds() -> None:
    """The controller listens on host ports 80/443 of the control planes; without host-port
    support in the CNI its pods start but nothing answers on the floating IP."""
    calico = cloud_init.calico("v3.30.0", "10.244.0.0/16", lambda url: "0" * 64)
    (installation, _) = yaml.safe_load_all(calico.files[0][1])
    # Tigera's operator enables host ports unless `hostPorts: Disabled`.
    assert installation["spec"]["calicoNetwork"].get("hostPorts", "Enabled") == "Enabled"
    # Cilium keeps kube-proxy here, so host ports need the portmap plugin chained.
    cilium = cloud_init.cilium("1.17.6", "v0.18.5", lambda url: "0" * 64)
    assert "--set cni.chainingMode=portmap" in _commands(cilium)


def test_the_programs_admin_certificate_renews_itself_before_it_expires() -> None:
    """The kubeconfig's client certificate lives a year; the last month's `up` replaces it."""
    plan = _kubeadm_program()
    (cert,) = [
        r
        for r in plan.find("tls:index/locallySignedCert:LocallySignedCert")
        if r.name.endswith("admin-cert")
    ]
    validity = cert.inputs["validityPeriodHours"]
    renewal = cert.inputs["earlyRenewalHours"]
    assert validity == 365 * 24
    assert 7 * 24 <= renewal <= 60 * 24  # a monthly `up` always lands inside the window
    assert cert.inputs["allowedUses"] == ["digital_signature", "key_encipherment", "client_auth"]
