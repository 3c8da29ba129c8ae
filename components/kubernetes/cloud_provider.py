"""OpenStack integration inside the cluster: cloud controller manager, Cinder CSI, classes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import SECRET, STORAGE_CLASS, BuiltinObject
from components.kubernetes.helm import ChartRef, release

SECRET_NAME = "cloud-config"  # noqa: S105 (a Secret object's name)
# On OCCM's and Cinder CSI's pods: a digest of `cloud.conf`, so a new credential (a replaced
# application credential) rolls the pods, which read the file only when they start.
CONFIG_DIGEST = "ukdac.lsst.ac.uk/cloud-config-sha256"
NAMESPACE = "kube-system"
PROVISIONER = "cinder.csi.openstack.org"


@dataclass(frozen=True)
class CloudProviderArgs:
    """`cluster_name` tags load balancers and volumes, so clean-up can find them."""

    cluster_name: str
    cloud_conf: pulumi.Input[str]
    cinder_csi_chart: ChartRef
    occm_chart: ChartRef | None  # None where the cluster brings its own (Magnum)
    default_class: str = "cinder"
    retain_class: str = "cinder-retain"


class CloudProvider(pulumi.ComponentResource):
    """The `cloud-config` Secret, OCCM, Cinder CSI and two StorageClasses (default and Retain)."""

    default_storage_class: str
    retain_storage_class: str

    def __init__(
        self, name: str, args: CloudProviderArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:CloudProvider", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secret = BuiltinObject(
            f"{name}-cloud-config",
            SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_NAME, namespace=NAMESPACE),
            type="Opaque",
            stringData={"cloud.conf": pulumi.Output.secret(args.cloud_conf)},
            opts=child,
        )
        # A truncated digest of a secret with a random credential in it reveals nothing of it;
        # left unsecret so that the releases' values stay readable in plans.
        digest = pulumi.Output.unsecret(
            pulumi.Output.from_input(args.cloud_conf).apply(
                lambda text: hashlib.sha256(text.encode()).hexdigest()[:16]
            )
        )
        pods = {CONFIG_DIGEST: digest}
        self.occm = None
        if args.occm_chart is not None:
            self.occm = release(
                "openstack-cloud-controller-manager",
                args.occm_chart,
                NAMESPACE,
                {
                    "secret": {"enabled": True, "create": False, "name": SECRET_NAME},
                    "cluster": {"name": args.cluster_name},
                    "podAnnotations": pods,
                },
                parent=self,
                depends_on=[self.secret],
            )
        self.csi = release(
            "openstack-cinder-csi",
            args.cinder_csi_chart,
            NAMESPACE,
            {
                "secret": {
                    "enabled": True,
                    "create": False,
                    "hostMount": False,
                    "name": SECRET_NAME,
                },
                "storageClass": {"enabled": False},
                "clusterID": args.cluster_name,
                "csi": {
                    "plugin": {
                        "nodePlugin": {"podAnnotations": pods},
                        "controllerPlugin": {"podAnnotations": pods},
                    }
                },
            },
            parent=self,
            depends_on=[self.secret, *([self.occm] if self.occm else [])],
        )
        self.classes = [
            self._class(name, args.default_class, "Delete", default=True),
            self._class(name, args.retain_class, "Retain", default=False),
        ]
        self.default_storage_class = args.default_class
        self.retain_storage_class = args.retain_class
        self.register_outputs(
            {"defaultStorageClass": args.default_class, "retainStorageClass": args.retain_class}
        )

    def _class(self, name: str, class_name: str, reclaim: str, default: bool) -> BuiltinObject:
        return BuiltinObject(
            f"{name}-{class_name}",
            STORAGE_CLASS,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=class_name,
                annotations={"storageclass.kubernetes.io/is-default-class": str(default).lower()},
            ),
            provisioner=PROVISIONER,
            reclaimPolicy=reclaim,
            volumeBindingMode="WaitForFirstConsumer",
            allowVolumeExpansion=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.csi]),
        )
