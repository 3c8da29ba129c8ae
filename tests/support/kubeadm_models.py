"""Strict models of the kubeadm v1beta4 and kubelet v1beta1 fields ukdac emits.

Written from the kubeadm configuration reference (kubeadm.k8s.io/v1beta4), independently of
the code that renders the documents: a field the renderer misspells or misplaces fails here.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Token = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{6}\.[a-z0-9]{16}$")]
Duration = Annotated[str, StringConstraints(pattern=r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$")]
CaHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Arg(Strict):
    name: str
    value: str


class Taint(Strict):
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodeRegistration(Strict):
    criSocket: Literal["unix:///var/run/containerd/containerd.sock"]
    kubeletExtraArgs: list[Arg]
    taints: list[Taint]


class APIEndpoint(Strict):
    advertiseAddress: str
    bindPort: Literal[6443]


class BootstrapToken(Strict):
    token: Token
    ttl: Duration
    usages: list[Literal["signing", "authentication"]]
    groups: list[Annotated[str, StringConstraints(pattern=r"^system:bootstrappers:[a-z0-9:-]+$")]]
    description: str


class InitConfiguration(Strict):
    apiVersion: Literal["kubeadm.k8s.io/v1beta4"]
    kind: Literal["InitConfiguration"]
    # Optional in kubeadm (it then makes a default token); ukdac's nodes join with the
    # program's own token Secret, so the init configuration lists none.
    bootstrapTokens: list[BootstrapToken] | None = None
    localAPIEndpoint: APIEndpoint
    nodeRegistration: NodeRegistration


class Networking(Strict):
    podSubnet: str
    serviceSubnet: str
    dnsDomain: str


class HostPathMount(Strict):
    name: str
    hostPath: str
    mountPath: str
    readOnly: bool
    pathType: Literal["DirectoryOrCreate", "Directory", "FileOrCreate", "File"]


class APIServer(Strict):
    certSANs: list[str]
    extraArgs: list[Arg] = []
    extraVolumes: list[HostPathMount] = []


class ControlPlaneComponent(Strict):
    extraArgs: list[Arg]


class ClusterConfiguration(Strict):
    apiVersion: Literal["kubeadm.k8s.io/v1beta4"]
    kind: Literal["ClusterConfiguration"]
    clusterName: str
    kubernetesVersion: Annotated[str, StringConstraints(pattern=r"^v1\.[0-9]+\.[0-9]+$")]
    controlPlaneEndpoint: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+:[0-9]+$")]
    encryptionAlgorithm: Literal["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"]
    networking: Networking
    apiServer: APIServer
    controllerManager: ControlPlaneComponent


class KubeletConfiguration(Strict):
    apiVersion: Literal["kubelet.config.k8s.io/v1beta1"]
    kind: Literal["KubeletConfiguration"]
    cgroupDriver: Literal["systemd"]
    serverTLSBootstrap: bool


class BootstrapTokenDiscovery(Strict):
    apiServerEndpoint: str
    token: Token
    caCertHashes: list[CaHash] = Field(min_length=1)


class Discovery(Strict):
    bootstrapToken: BootstrapTokenDiscovery


class JoinControlPlane(Strict):
    localAPIEndpoint: APIEndpoint


class Timeouts(Strict):
    discovery: Duration


class JoinConfiguration(Strict):
    apiVersion: Literal["kubeadm.k8s.io/v1beta4"]
    kind: Literal["JoinConfiguration"]
    timeouts: Timeouts
    discovery: Discovery
    nodeRegistration: NodeRegistration
    controlPlane: JoinControlPlane | None = None


MODELS: dict[str, type[Strict]] = {
    "InitConfiguration": InitConfiguration,
    "ClusterConfiguration": ClusterConfiguration,
    "KubeletConfiguration": KubeletConfiguration,
    "JoinConfiguration": JoinConfiguration,
}


def parse(document: dict[str, object]) -> Strict:
    kind = document.get("kind")
    if kind not in MODELS:
        raise ValueError(f"unexpected kubeadm document kind {kind!r}")
    model = MODELS[str(kind)].model_validate(document)
    if isinstance(model, InitConfiguration | JoinConfiguration) and isinstance(
        getattr(model, "localAPIEndpoint", None), APIEndpoint
    ):
        IPv4Address(model.localAPIEndpoint.advertiseAddress)  # type: ignore[union-attr]
    return model
