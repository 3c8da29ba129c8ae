"""Every version ukdac deploys, pinned in one table.

Upgrading anything (Kubernetes, a chart, an image, the Qserv operator) is a one-line change
here, reviewed in the pull request's plan diff. `source` says where the pin was checked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    """One pinned artefact: what it is, the exact version, and where that was verified."""

    version: str
    source: str


PINS: dict[str, Pin] = {
    "kubernetes": Pin("1.35.3", "pkgs.k8s.io core:/stable:/v1.35 (kubelet, kubeadm, kubectl)"),
    "chart/cert-manager": Pin("v1.21.1", "cert-manager/cert-manager tag v1.21.1"),
    "chart/vault": Pin("0.34.1", "hashicorp/vault-helm @ aa1c92e4"),
    # Bootstrapped as phalanx's installer does, then upgraded by phalanx: its versions.
    "chart/argo-cd": Pin("10.2.2", "phalanx applications/argocd/Chart.yaml @ 650a0ef"),
    "chart/vault-secrets-operator": Pin(
        "2.7.0", "phalanx applications/vault-secrets-operator/Chart.yaml @ 650a0ef"
    ),
    "chart/ingress-nginx": Pin("4.15.1", "kubernetes/ingress-nginx @ dbb11b92 (last release)"),
    "chart/openstack-cloud-controller-manager": Pin(
        "2.36.0", "kubernetes/cloud-provider-openstack @ c453fb7c"
    ),
    "chart/openstack-cinder-csi": Pin("2.36.0", "kubernetes/cloud-provider-openstack @ c453fb7c"),
    # CNI installed by the kubeadm control plane's cloud-init (VXLAN overlay in both cases).
    "calico": Pin("v3.30.2", "projectcalico/calico release v3.30.2 (tigera-operator manifests)"),
    "cilium": Pin("1.17.6", "unverified: cilium/cilium 1.17 patch release"),
    "cilium-cli": Pin("v0.18.5", "unverified: cilium/cilium-cli release"),
    # Rubin's maintained controller build (upstream ingress-nginx was retired in March 2026).
    "image/ingress-nginx-controller": Pin(
        "ghcr.io/lsst-sqre/ingress-nginx-controller:v1.15.6-lsstsqre-chainguard"
        "@sha256:6c23471044041335807bcfb0cec22049ceb2d66f1cacf37033a42e3e75ad0f99",
        "phalanx applications/ingress-nginx/values.yaml @ 650a0ef (tag and digest)",
    ),
    "image/ingress-nginx-controller-chroot": Pin(
        "ghcr.io/lsst-sqre/ingress-nginx-controller-chroot:v1.15.6-lsstsqre-chainguard"
        "@sha256:ab9e75bd5aa26b383c4382b27a6957220e060974073c90cd0e1f8ff93bfbbc94",
        "phalanx applications/ingress-nginx/values.yaml @ 650a0ef (digestChroot)",
    ),
    # Snapshots (components/kubernetes/snapshots.py): etcdctl from kubeadm's etcd image of
    # the Kubernetes minor, Vault's CLI from the image the chart runs, rclone to upload.
    "image/etcd": Pin(
        "registry.k8s.io/etcd:3.6.5-0"
        "@sha256:042ef9c02799eb9303abf1aa99b09f09d94b8ee3ba0c2dd3f42dc4e1d3dce534",
        "kubeadm v1.35 cmd/kubeadm/app/constants DefaultEtcdVersion; digest of the tag on "
        "registry.k8s.io",
    ),
    "image/vault": Pin(
        "hashicorp/vault:2.0.4",
        "vault-helm 0.34.1 values.yaml server.image (the server this CLI talks to)",
    ),
    "image/rclone": Pin(
        "rclone/rclone:1.75.1"
        "@sha256:45401ad7410db1d67ffdb58e19059ad20b0d8e0285a60e38bbec55cc1019c7a5",
        "docker.io rclone/rclone 1.75.1 (index digest)",
    ),
    # No tag carries the 2024.11.2-rc1 images: the manifests are taken at their commit.
    "qserv-operator": Pin(
        "7b1bbd2fb97562f9aafa4d3d15724a3f66fe78c7",
        "lsst/qserv-operator main @ 7b1bbd2f: operator image 2024.11.2-rc1",
    ),
    "image/qserv": Pin(
        "qserv/lite-qserv:2024.11.2-rc1",
        "lsst/qserv-operator @ 7b1bbd2f manifests/base/image.yaml (spec.image)",
    ),
    "image/qserv-db": Pin(
        "qserv/lite-mariadb:2024.11.2-rc1",
        "lsst/qserv-operator @ 7b1bbd2f manifests/base/image.yaml (spec.dbImage)",
    ),
}

# Where each chart comes from (the version is in PINS as chart/<name>).
CHART_REPOSITORIES: dict[str, str] = {
    "cert-manager": "https://charts.jetstack.io",
    "vault": "https://helm.releases.hashicorp.com",
    "argo-cd": "https://argoproj.github.io/argo-helm",
    "vault-secrets-operator": "https://ricoberger.github.io/helm-charts",
    "ingress-nginx": "https://kubernetes.github.io/ingress-nginx",
    "openstack-cloud-controller-manager": "https://kubernetes.github.io/cloud-provider-openstack",
    "openstack-cinder-csi": "https://kubernetes.github.io/cloud-provider-openstack",
}

QSERV_OPERATOR_MANIFEST = (
    "https://raw.githubusercontent.com/lsst/qserv-operator/{commit}/manifests/operator.yaml"
)

# Kubernetes minors ukdac's kubeadm documents (kubeadm.k8s.io/v1beta4) and validation cover.
SUPPORTED_KUBERNETES_MINORS: tuple[str, ...] = ("1.34", "1.35", "1.36")


# Written out, not built from PINS: a version bump must fail here until its digests are added.
_CALICO = "https://raw.githubusercontent.com/projectcalico/calico/v3.30.2/manifests"

# Every file a node downloads, by exact URL, with the sha256 cloud-init checks before using
# it (a moved tag or a tampered mirror stops the node instead of running as root). Bumping
# a version changes the URL, so the new file's digest must be added here.
DOWNLOAD_SHA256: dict[str, Pin] = {
    f"{_CALICO}/operator-crds.yaml": Pin(
        "932f611753f7b245ca28fd7522937ffa4ba0365748bc1db0c4702877d428df8f",
        "projectcalico/calico tag v3.30.2, git blob of manifests/operator-crds.yaml",
    ),
    f"{_CALICO}/tigera-operator.yaml": Pin(
        "47d48a4a4283f320ea4340724d1afae419fb23e734f5b641bec646c25c7b19b6",
        "projectcalico/calico tag v3.30.2, git blob of manifests/tigera-operator.yaml",
    ),
    "https://raw.githubusercontent.com/lsst/qserv-operator/"
    "7b1bbd2fb97562f9aafa4d3d15724a3f66fe78c7/manifests/operator.yaml": Pin(
        "9e97d75ffdfe32d53ed249607699c0332bf6ad7620b49449c17bdcf7b9939aed",
        "lsst/qserv-operator @ 7b1bbd2f, git blob of manifests/operator.yaml (checked when "
        "the program reads it from a mirror)",
    ),
    "https://github.com/cilium/cilium-cli/releases/download/v0.18.5/cilium-linux-amd64.tar.gz": Pin(
        "e63893745b67f58032d9b4f142ae7d6e97286df66af27ff24cd72dc81efc9ff9",
        "as pinned by a public CI workflow for this release asset; check it against the "
        "release's own `cilium-linux-amd64.tar.gz.sha256sum` when bumping (a wrong pin stops "
        "the boot, it never lets a file through)",
    ),
}

# Signing keys a node fetches, by the fingerprint checked before apt trusts the key. A
# fingerprint, not a file digest: the file changes whenever the key's expiry is extended.
SIGNING_KEY_FINGERPRINTS: dict[str, Pin] = {
    "pkgs.k8s.io": Pin(
        "DE15B14486CD377B9E876E1A234654DA9A296436",
        "Kubernetes' community package repositories (`gpg --show-keys Release.key`)",
    ),
}


def pinned(name: str) -> str:
    """The pinned version of `name`; a KeyError names a pin that is not in the table."""
    return PINS[name].version


def download_sha256(url: str) -> str:
    """The sha256 a downloaded file must have; fails, saying what to add, if none is pinned."""
    try:
        return DOWNLOAD_SHA256[url].version
    except KeyError:
        raise LookupError(
            f"no sha256 is pinned for {url}: add it to DOWNLOAD_SHA256 in infra/versions.py "
            "(sha256sum of the file, from a machine that can reach it) with where it came from"
        ) from None
