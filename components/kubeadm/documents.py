"""kubeadm configuration documents (kubeadm.k8s.io/v1beta4, Kubernetes 1.31 and later).

Plain data in, plain data out: the documents are rendered into cloud-init user data, which
must be byte-identical between two plans, so nothing here reads the clock or the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

API_VERSION = "kubeadm.k8s.io/v1beta4"
KUBELET_API_VERSION = "kubelet.config.k8s.io/v1beta1"
CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
BOOTSTRAP_GROUP = "system:bootstrappers:kubeadm:default-node-token"
# libyaml's emitter when present (several times faster); tests check it writes the same bytes as
# the pure-Python one, so user data does not depend on how PyYAML was built.
DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


def _args(values: Mapping[str, str]) -> list[dict[str, str]]:
    """v1beta4 writes extra arguments as a list of name/value pairs."""
    return [{"name": name, "value": value} for name, value in sorted(values.items())]


def _kubelet_args(labels: Mapping[str, str]) -> list[dict[str, str]]:
    args = {"cloud-provider": "external"}
    if labels:
        args["node-labels"] = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return _args(args)


def _taints(taints: Sequence[Taint]) -> list[dict[str, str]]:
    return [
        {"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
        for t in taints
    ]


def init_documents(
    *,
    cluster_name: str,
    kubernetes_version: str,
    advertise_address: str,
    control_plane_endpoint: str,
    cert_sans: Sequence[str],
    pod_subnet: str,
    service_subnet: str,
    admission_config: str | None = None,
) -> list[dict[str, Any]]:
    """InitConfiguration, ClusterConfiguration and KubeletConfiguration of the first node.

    It lists no bootstrap token: kubeadm's default one lapses in a day unused, and nodes
    join with the token the program keeps in the cluster (`components/kubernetes/join_token`).

    `admission_config` is the path of an AdmissionConfiguration file every control plane
    has on disk; the API server reads it (its directory mounted read-only).
    """
    api_server: dict[str, Any] = {"certSANs": sorted(set(cert_sans))}
    if admission_config is not None:
        directory = admission_config.rsplit("/", 1)[0]
        api_server["extraArgs"] = _args({"admission-control-config-file": admission_config})
        api_server["extraVolumes"] = [
            {
                "name": "admission",
                "hostPath": directory,
                "mountPath": directory,
                "readOnly": True,
                "pathType": "DirectoryOrCreate",
            }
        ]
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "InitConfiguration",
            "localAPIEndpoint": {"advertiseAddress": advertise_address, "bindPort": 6443},
            "nodeRegistration": {
                "criSocket": CRI_SOCKET,
                "kubeletExtraArgs": _kubelet_args({}),
                "taints": [CONTROL_PLANE_TAINT],
            },
        },
        {
            "apiVersion": API_VERSION,
            "kind": "ClusterConfiguration",
            "clusterName": cluster_name,
            "kubernetesVersion": f"v{kubernetes_version}",
            "controlPlaneEndpoint": control_plane_endpoint,
            "encryptionAlgorithm": "ECDSA-P256",
            "networking": {
                "podSubnet": pod_subnet,
                "serviceSubnet": service_subnet,
                "dnsDomain": "cluster.local",
            },
            "apiServer": api_server,
            "controllerManager": {"extraArgs": _args({"cloud-provider": "external"})},
        },
        {
            "apiVersion": KUBELET_API_VERSION,
            "kind": "KubeletConfiguration",
            "cgroupDriver": "systemd",
            "serverTLSBootstrap": False,
        },
    ]


def join_documents(
    *,
    api_endpoint: str,
    bootstrap_token: str,
    ca_cert_hash: str,
    labels: Mapping[str, str],
    taints: Sequence[Taint],
    control_plane_address: str | None = None,
) -> list[dict[str, Any]]:
    """JoinConfiguration of a worker, or of another control-plane node when an address is given."""
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "JoinConfiguration",
        # Nodes boot alongside the first control plane: wait for it rather than fail.
        "timeouts": {"discovery": "30m0s"},
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": api_endpoint,
                "token": bootstrap_token,
                "caCertHashes": [ca_cert_hash],
            }
        },
        "nodeRegistration": {
            "criSocket": CRI_SOCKET,
            "kubeletExtraArgs": _kubelet_args(labels),
            "taints": _taints(taints),
        },
    }
    if control_plane_address is not None:
        document["controlPlane"] = {
            "localAPIEndpoint": {"advertiseAddress": control_plane_address, "bindPort": 6443}
        }
        document["nodeRegistration"]["taints"] = [CONTROL_PLANE_TAINT]
    return [document]


def render(documents: Sequence[Mapping[str, Any]]) -> str:
    """A multi-document YAML file, keys in a fixed order."""
    return yaml.dump_all(list(documents), Dumper=DUMPER, sort_keys=True, default_flow_style=False)


def pod_security_admission(
    enforce: str, exempt_namespaces: Sequence[str], audit: str = "restricted"
) -> dict[str, Any]:
    """The API server's AdmissionConfiguration for Pod Security: `enforce` everywhere but
    the exempt namespaces, and audit and warn at `audit`, so gaps to it show in logs."""
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [
            {
                "name": "PodSecurity",
                "configuration": {
                    "apiVersion": "pod-security.admission.config.k8s.io/v1",
                    "kind": "PodSecurityConfiguration",
                    "defaults": {
                        "enforce": enforce,
                        "enforce-version": "latest",
                        "audit": audit,
                        "audit-version": "latest",
                        "warn": audit,
                        "warn-version": "latest",
                    },
                    "exemptions": {
                        "usernames": [],
                        "runtimeClasses": [],
                        "namespaces": sorted(exempt_namespaces),
                    },
                },
            }
        ],
    }
