"""cloud-init `#cloud-config` user data that turns an Ubuntu LTS instance into a kubeadm node.

Rendered deterministically: changing user data replaces a Nova server, so the same inputs
must always give the same bytes (fixed key order, no timestamps, no randomness).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import yaml

from components.kubeadm.documents import DUMPER

Action = Literal["init", "join-control-plane", "join"]
PKI_DIR = "/etc/kubernetes/pki"
KUBEADM_CONFIG = "/etc/kubernetes/kubeadm.yaml"
# Control plane 0's second recipe: how it joins when it replaces a lost first node.
KUBEADM_JOIN_CONFIG = "/etc/kubernetes/kubeadm-join.yaml"
# Written when this boot initialised the cluster, so what only a new cluster needs runs once.
INITIALISED_MARK = "/run/ukdac-initialised"
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"


@dataclass(frozen=True)
class Pki:
    """The cluster's CAs and service-account key, made by the program, shared by control planes."""

    ca_cert: str
    ca_key: str
    front_proxy_ca_cert: str
    front_proxy_ca_key: str
    etcd_ca_cert: str
    etcd_ca_key: str
    sa_key: str
    sa_pub: str

    def files(self) -> list[tuple[str, str, str]]:
        """(path, permissions, content) of every file kubeadm expects in its pki directory."""
        return [
            (f"{PKI_DIR}/ca.crt", "0644", self.ca_cert),
            (f"{PKI_DIR}/ca.key", "0600", self.ca_key),
            (f"{PKI_DIR}/front-proxy-ca.crt", "0644", self.front_proxy_ca_cert),
            (f"{PKI_DIR}/front-proxy-ca.key", "0600", self.front_proxy_ca_key),
            (f"{PKI_DIR}/etcd/ca.crt", "0644", self.etcd_ca_cert),
            (f"{PKI_DIR}/etcd/ca.key", "0600", self.etcd_ca_key),
            (f"{PKI_DIR}/sa.key", "0600", self.sa_key),
            (f"{PKI_DIR}/sa.pub", "0644", self.sa_pub),
        ]


@dataclass(frozen=True)
class Download:
    """A file fetched at boot, checked against its pinned `sha256` before any use."""

    url: str
    path: str
    sha256: str


def fetch(download: Download) -> str:
    """One runcmd line that downloads a file and verifies it, or stops the whole boot.

    runcmd is one shell script without `set -e`, so a failed check must `exit` itself; the
    file is removed so no later step can use it.
    """
    path, url = download.path, download.url
    check = f"echo '{download.sha256}  {path}' | sha256sum -c --quiet -"
    return (
        f"curl -fsSL --retry 5 -o {path} {url} && {check} || "
        f"{{ rm -f {path}; echo 'ukdac: {url} failed its sha256 check' >&2; exit 1; }}"
    )


def trust_signing_key(url: str, fingerprint: str, keyring: str) -> str:
    """One runcmd line that installs an apt signing key only if it is the pinned key.

    The file must hold exactly one primary key, with `fingerprint`; otherwise the boot stops
    before apt trusts anything from the repository.
    """
    download = f"{keyring}.asc"
    primaries = (
        f"gpg --batch --show-keys --with-colons {download} "
        '| awk -F: \'$1=="pub" {p=1; next} p && $1=="fpr" {print $10; p=0}\''
    )
    return (
        f"mkdir -p {keyring.rsplit('/', 1)[0]} && curl -fsSL --retry 5 -o {download} {url} && "
        f'test "$({primaries})" = {fingerprint} && gpg --batch --yes --dearmor -o {keyring} '
        f"{download} || {{ rm -f {download} {keyring}; "
        f"echo 'ukdac: {url} is not the key {fingerprint}' >&2; exit 1; }}"
    )


@dataclass(frozen=True)
class Rejoin:
    """Control plane 0's way back into a running cluster when it is a replacement.

    The first node of a cluster runs `kubeadm init` once in the cluster's life. A server
    replacing it (same pre-made port, same address) finds another control plane's API
    answering and joins with `join_config` instead; with none answering it initialises.
    `api_name` resolves to this node's own address, which no API answers on yet, so it
    points at the answering peer for the join and back afterwards.
    """

    join_config: str
    peers: tuple[str, ...]
    api_name: str
    own_address: str


def init_or_join(rejoin: Rejoin, hosts: str = "/etc/hosts", mark: str = INITIALISED_MARK) -> str:
    """One runcmd line: join through the first peer whose API answers, else `kubeadm init`
    (and leave `mark`). A failed join or init ends the boot."""
    own, name = rejoin.own_address, rejoin.api_name
    own_re, name_re = own.replace(".", r"\."), name.replace(".", r"\.")
    probe = (
        f"for a in {' '.join(rejoin.peers)}; do "
        f"if curl -sk --max-time 5 -o /dev/null https://$a:6443/livez; then peer=$a; break; fi; "
        "done"
    )
    join = (
        f'sed -i "s/^{own_re} {name_re}$/$peer {name}/" {hosts} && '
        f"kubeadm join --config {KUBEADM_JOIN_CONFIG}; joined=$?; "
        f'sed -i "s/^$peer {name_re}$/{own} {name}/" {hosts}; '
        '[ "$joined" -eq 0 ] || exit 1'
    )
    init = f"kubeadm init --config {KUBEADM_CONFIG} && touch {mark} || exit 1"
    return f'peer=""; {probe}; if [ -n "$peer" ]; then {join}; else {init}; fi'


def once_initialised(command: str, mark: str = INITIALISED_MARK) -> str:
    """`command`, only where this boot made a new cluster (the pod network, for one)."""
    return f"if [ -e {mark} ]; then {command}; fi"


@dataclass(frozen=True)
class CniInstall:
    """Files and commands that install the pod network, run once on the first control plane."""

    files: tuple[tuple[str, str], ...] = ()
    commands: tuple[str, ...] = field(default=())
    downloads: tuple[Download, ...] = ()  # fetched (and checked) by `commands`


def _upstream(url: str) -> str:
    return url


def calico(
    version: str,
    pod_cidr: str,
    sha256: Callable[[str], str],
    source: Callable[[str], str] = _upstream,
) -> CniInstall:
    """Calico through the Tigera operator, VXLAN encapsulation, BGP off.

    `sha256` gives the pinned digest of each manifest by upstream URL; the node checks them.
    `source` gives where a node fetches an upstream URL from (a mirror, or the URL itself).
    """
    base = f"https://raw.githubusercontent.com/projectcalico/calico/{version}/manifests"
    manifests = [
        Download(source(f"{base}/{n}"), f"/etc/kubernetes/cni/{n}", sha256(f"{base}/{n}"))
        for n in ("operator-crds.yaml", "tigera-operator.yaml")
    ]
    resources = yaml.dump_all(
        [
            {
                "apiVersion": "operator.tigera.io/v1",
                "kind": "Installation",
                "metadata": {"name": "default"},
                "spec": {
                    "calicoNetwork": {
                        "bgp": "Disabled",
                        "ipPools": [
                            {
                                "name": "default-ipv4-ippool",
                                "blockSize": 26,
                                "cidr": pod_cidr,
                                "encapsulation": "VXLAN",
                                "natOutgoing": "Enabled",
                                "nodeSelector": "all()",
                            }
                        ],
                    }
                },
            },
            {
                "apiVersion": "operator.tigera.io/v1",
                "kind": "APIServer",
                "metadata": {"name": "default"},
                "spec": {},
            },
        ],
        Dumper=DUMPER,
        sort_keys=True,
    )
    path = "/etc/kubernetes/cni/calico-resources.yaml"
    kubectl = f"kubectl --kubeconfig {ADMIN_KUBECONFIG}"
    return CniInstall(
        files=((path, resources),),
        commands=(
            *(fetch(manifest) for manifest in manifests),
            *(f"{kubectl} create -f {manifest.path}" for manifest in manifests),
            f"{kubectl} wait --for condition=established --timeout=120s "
            "crd/installations.operator.tigera.io",
            f"{kubectl} create -f {path}",
        ),
        downloads=tuple(manifests),
    )


def cilium(
    version: str,
    cli_version: str,
    sha256: Callable[[str], str],
    source: Callable[[str], str] = _upstream,
) -> CniInstall:
    """Cilium in tunnel (VXLAN) mode with Kubernetes IPAM, installed by a pinned cilium CLI.

    kube-proxy stays, so Cilium serves host ports (the ingress controller's 80/443) only by
    chaining the `portmap` plugin, which the kubelet package installs in /opt/cni/bin.
    """
    url = (
        f"https://github.com/cilium/cilium-cli/releases/download/{cli_version}/"
        "cilium-linux-amd64.tar.gz"
    )
    tarball = Download(source(url), "/usr/local/src/cilium-linux-amd64.tar.gz", sha256(url))
    return CniInstall(
        commands=(
            f"mkdir -p /usr/local/src && {fetch(tarball)}",
            f"tar -xzf {tarball.path} -C /usr/local/bin cilium",
            f"KUBECONFIG={ADMIN_KUBECONFIG} cilium install --version {version} "
            "--set ipam.mode=kubernetes --set routingMode=tunnel --set tunnelProtocol=vxlan "
            "--set cni.chainingMode=portmap",
        ),
        downloads=(tarball,),
    )


METADATA_ADDRESS = "169.254.169.254"
METADATA_BLOCK_UNIT = "/etc/systemd/system/metadata-block.service"
_BLOCK_UNIT = f"""[Unit]
Description=Close the cloud metadata service (its user data holds the cluster's keys)
After=network-pre.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/iptables -w -I OUTPUT -d {METADATA_ADDRESS}/32 -j REJECT
ExecStart=/usr/sbin/iptables -w -I FORWARD -d {METADATA_ADDRESS}/32 -j REJECT

[Install]
WantedBy=multi-user.target
"""


def _package_version(kubernetes_version: str) -> str:
    return f"{kubernetes_version}-1.1"


def render(
    *,
    kubernetes_version: str,
    kubeadm_config: str,
    action: Action,
    apt_key_fingerprint: str,
    hosts: Sequence[tuple[str, str]] = (),
    pki: Pki | None = None,
    cni: CniInstall | None = None,
    block_metadata: bool = False,
    admission: tuple[str, str] | None = None,
    rejoin: Rejoin | None = None,
) -> str:
    """The `#cloud-config` document of one node.

    With `block_metadata`, the node's last boot step closes the metadata service to itself
    and to everything it routes, for good (a unit that runs at every boot): the user data
    there holds the cluster's keys, and the node no longer needs it once it has joined
    (OCCM and Cinder CSI read the config drive instead). `admission` is a control plane's
    (path, content) of the API server's admission configuration. `apt_key_fingerprint` is
    the package repository's signing key, checked before apt trusts it. `rejoin` lets a
    first control plane that replaces a lost one join the running cluster (`init` only).
    """
    minor = ".".join(kubernetes_version.split(".")[:2])
    repo = f"https://pkgs.k8s.io/core:/stable:/v{minor}/deb/"
    pinned = _package_version(kubernetes_version)
    files: list[dict[str, str]] = [
        {"path": "/etc/modules-load.d/kubernetes.conf", "content": "overlay\nbr_netfilter\n"},
        {
            "path": "/etc/sysctl.d/99-kubernetes.conf",
            "content": "net.bridge.bridge-nf-call-iptables = 1\n"
            "net.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n",
        },
        {"path": KUBEADM_CONFIG, "permissions": "0600", "content": kubeadm_config},
    ]
    if pki is not None:
        files += [
            {"path": path, "permissions": mode, "content": content}
            for path, mode, content in pki.files()
        ]
    if admission is not None:
        files.append({"path": admission[0], "permissions": "0644", "content": admission[1]})
    if cni is not None:
        files += [{"path": path, "permissions": "0644", "content": c} for path, c in cni.files]
    commands: list[str | list[str]] = [
        ["modprobe", "overlay"],
        ["modprobe", "br_netfilter"],
        ["sysctl", "--system"],
        ["swapoff", "-a"],
        "mkdir -p /etc/containerd && containerd config default "
        "| sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml",
        ["systemctl", "restart", "containerd"],
        trust_signing_key(f"{repo}Release.key", apt_key_fingerprint, KEYRING),
        f"echo 'deb [signed-by={KEYRING}] {repo} /' > /etc/apt/sources.list.d/kubernetes.list",
        ["apt-get", "update"],
        [
            "apt-get",
            "install",
            "-y",
            f"kubelet={pinned}",
            f"kubeadm={pinned}",
            f"kubectl={pinned}",
        ],
        ["apt-mark", "hold", "kubelet", "kubeadm", "kubectl"],
        ["systemctl", "enable", "--now", "kubelet"],
    ]
    commands += [f"echo '{address} {name}' >> /etc/hosts" for name, address in hosts]
    if action == "init" and rejoin is not None:
        files.append(
            {"path": KUBEADM_JOIN_CONFIG, "permissions": "0600", "content": rejoin.join_config}
        )
        commands.append(init_or_join(rejoin))
        commands += [once_initialised(c) for c in (cni.commands if cni else ())]
    elif action == "init":
        commands.append(["kubeadm", "init", "--config", KUBEADM_CONFIG])
        commands += list(cni.commands if cni else ())
    else:
        commands.append(["kubeadm", "join", "--config", KUBEADM_CONFIG])
    if block_metadata:
        files.append({"path": METADATA_BLOCK_UNIT, "permissions": "0644", "content": _BLOCK_UNIT})
        commands.append(["systemctl", "enable", "--now", METADATA_BLOCK_UNIT.rsplit("/", 1)[1]])
    document = {
        "package_update": True,
        "packages": ["apt-transport-https", "ca-certificates", "curl", "gpg", "containerd"],
        "write_files": files,
        "runcmd": commands,
    }
    return "#cloud-config\n" + yaml.dump(document, Dumper=DUMPER, sort_keys=False, width=4096)
