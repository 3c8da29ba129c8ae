"""Wait for a new cluster's API server before anything is installed on it.

A Nova instance is ACTIVE long before cloud-init has finished `kubeadm init`; this dynamic
resource polls `/readyz` with the cluster CA, so the first `pulumi up` goes straight through.
"""

from __future__ import annotations

import base64
import ssl
import tempfile
import time
import urllib.request
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


def wait_ready(api_url: str, ca_pem: str, timeout_seconds: int) -> None:
    """Poll `<api_url>/readyz` until it answers 200 or the timeout passes."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca_file:
        ca_file.write(ca_pem)
        ca_file.flush()
        context = ssl.create_default_context(cafile=ca_file.name)
        deadline = time.monotonic() + timeout_seconds
        last = "no answer yet"
        while time.monotonic() < deadline:
            try:
                url = f"{api_url}/readyz"
                if not url.startswith("https://"):
                    raise ValueError(f"refusing to poll {url}: not https")
                with urllib.request.urlopen(url, context=context, timeout=10) as r:  # noqa: S310
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except OSError as error:
                last = str(error)
            time.sleep(10)
    raise TimeoutError(f"{api_url} not ready after {timeout_seconds} s: {last}")


class _ReadyProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        ca_pem = base64.b64decode(props["caData"]).decode() if props.get("caData") else ""
        wait_ready(props["apiUrl"], ca_pem, int(props["timeoutSeconds"]))
        return CreateResult(id_=props["apiUrl"], outs=props)


class ClusterReady(Resource):
    """Created once the API at `api_url` is ready; depend on it to install on the cluster."""

    def __init__(
        self,
        name: str,
        api_url: pulumi.Input[str],
        ca_data: pulumi.Input[str],
        timeout_seconds: int = 1800,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            _ReadyProvider(),
            name,
            {"apiUrl": api_url, "caData": ca_data, "timeoutSeconds": timeout_seconds},
            opts,
        )


def _cluster_of(kubeconfig: str) -> dict[str, Any]:
    cluster: dict[str, Any] = yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]
    return cluster


class ClusterAccess(pulumi.ComponentResource):
    """A Kubernetes provider for a new cluster, usable only once its API answers."""

    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        kubeconfig: pulumi.Output[str],
        timeout_seconds: int = 1800,
        opts: pulumi.ResourceOptions | None = None,
        existing: bool = False,
    ) -> None:
        """`existing`: a cluster made elsewhere, already up: used as it is, no wait."""
        super().__init__("ukdac:kubernetes:ClusterAccess", name, None, opts)
        if existing:
            self.provider = k8s.Provider(
                f"{name}-provider", kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(parent=self)
            )
            self.register_outputs({})
            return
        # The server URL and CA certificate are public; only the client key makes it secret.
        cluster = pulumi.Output.unsecret(kubeconfig.apply(_cluster_of))
        self.ready = ClusterReady(
            f"{name}-ready",
            api_url=cluster.apply(lambda c: str(c["server"])),
            ca_data=cluster.apply(lambda c: str(c.get("certificate-authority-data", ""))),
            timeout_seconds=timeout_seconds,
            opts=pulumi.ResourceOptions(parent=self),
        )
        after_ready: pulumi.Output[str] = pulumi.Output.all(kubeconfig, self.ready.id).apply(
            lambda v: str(v[0])
        )
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=after_ready,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
