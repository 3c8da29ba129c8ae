"""A local Kubernetes control plane on 127.0.0.1, from the binaries `make kube` builds.

etcd, kube-apiserver (RBAC, and Pod Security admission configured exactly as ukdac configures
its clusters), kube-controller-manager, kube-scheduler and kwok, which plays the kubelets:
one Node per server of a stack, labelled and tainted as that stack's control planes and node
groups are, and pods made Ready once scheduled. No container runs: images are never pulled.

    python -m tests.kube.control_plane up [--stack ukdac-dev]   # prints the kubeconfig path
    python -m tests.kube.control_plane down

State (certificates, etcd's data, logs, process ids) lives in UKDAC_KUBE_DIR
(default /tmp/ukdac-kube); binaries in UKDAC_KUBE_HOME/bin (default ~/.cache/ukdac/kube).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.kubeadm.documents import pod_security_admission
from components.kubernetes.control_planes import CONTROL_PLANE_LABEL
from infra.program.cloud_layer import POD_SECURITY_ENFORCE, POD_SECURITY_EXEMPT
from infra.stack.deployment import CONTROL_PLANE, Deployment

HOME = Path(os.environ.get("UKDAC_KUBE_HOME", Path.home() / ".cache" / "ukdac" / "kube"))
BIN = HOME / "bin"
STATE = Path(os.environ.get("UKDAC_KUBE_DIR", "/tmp/ukdac-kube"))
API_PORT = 16443
ETCD_CLIENT, ETCD_PEER = 12379, 12380
ETCD_URL = f"https://127.0.0.1:{ETCD_CLIENT}"
ETCD_NAME = "local"
ETCD_PEER_URL = f"http://127.0.0.1:{ETCD_PEER}"
SERVICE_CIDR = "10.96.0.0/12"
PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ControlPlaneError(Exception):
    """The local control plane could not be started."""


@dataclass(frozen=True)
class LocalNode:
    name: str
    labels: dict[str, str]
    taints: tuple[tuple[str, str, str], ...]  # key, value, effect


def nodes_of(d: Deployment) -> list[LocalNode]:
    """One node per server the stack makes, with the labels and taints its kubelet gets."""
    found: list[LocalNode] = []
    groups = {g.name: g for g in d.config.cluster.node_groups}
    for group, names in d.names.nodes.items():
        if group == CONTROL_PLANE:
            labels = {CONTROL_PLANE_LABEL: ""}
            taints: tuple[tuple[str, str, str], ...] = ((CONTROL_PLANE_LABEL, "", "NoSchedule"),)
        else:
            spec = groups[group]
            labels = dict(spec.labels)
            taints = tuple((t.key, t.value or "", t.effect) for t in spec.taints)
        for name in names:
            found.append(LocalNode(name.server, labels, taints))
    return found


def _run(*command: str, cwd: Path = STATE) -> None:
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)


def _issue(folder: Path, name: str, subject: str, extension: str | None = None) -> None:
    """A key and a certificate signed by the folder's ca.crt (`extension`: a SAN line)."""
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
         "-out", f"{name}.csr", "-subj", subject, cwd=folder)  # fmt: skip
    options: list[str] = []
    if extension is not None:
        (folder / f"{name}.cnf").write_text(extension + "\n")
        options = ["-extfile", f"{name}.cnf"]
    _run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "30", "-out", f"{name}.crt", *options, cwd=folder)  # fmt: skip


def _authority(folder: Path, subject: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-keyout", "ca.key", "-out", "ca.crt", "-subj", subject, cwd=folder)  # fmt: skip


def _certificates() -> None:
    """As kubeadm lays them out: a cluster CA with the API server's serving certificate, an
    admin client and the SA key pair; etcd's own CA (pki/etcd) with its serving certificate,
    the API server's client and the health-check client the etcd snapshot job uses."""
    pki = STATE / "pki"
    if (pki / "etcd" / "healthcheck-client.crt").is_file():
        return
    shutil.rmtree(pki, ignore_errors=True)
    _authority(pki, "/CN=ukdac-local-ca")
    _issue(pki, "apiserver", "/CN=kube-apiserver",
           "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
           "DNS:kubernetes.default,DNS:kubernetes.default.svc")  # fmt: skip
    _issue(pki, "admin", "/O=system:masters/CN=kubernetes-admin")
    _run("openssl", "genrsa", "-out", "sa.key", "2048", cwd=pki)
    _run("openssl", "rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
    etcd = pki / "etcd"
    _authority(etcd, "/CN=etcd-ca")
    _issue(etcd, "server", "/CN=local", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    _issue(etcd, "healthcheck-client", "/CN=kube-etcd-healthcheck-client")
    # Signed by etcd's CA, kept beside the API server's other files (kubeadm's layout).
    _issue(etcd, "apiserver-etcd-client", "/CN=kube-apiserver-etcd-client")
    for suffix in ("crt", "key"):
        (etcd / f"apiserver-etcd-client.{suffix}").rename(pki / f"apiserver-etcd-client.{suffix}")


def kubeconfig_path() -> Path:
    return STATE / "admin.kubeconfig"


def _kubeconfig() -> str:
    pki = STATE / "pki"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": f"https://127.0.0.1:{API_PORT}",
                    "certificate-authority": str(pki / "ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate": str(pki / "admin.crt"),
                    "client-key": str(pki / "admin.key"),
                },
            }
        ],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
        "current-context": "local",
    }
    return yaml.safe_dump(document)


def inline_kubeconfig() -> str:
    """The admin kubeconfig with the certificates inline (a stack's `cluster.kubeconfig`)."""
    import base64

    pki = STATE / "pki"
    document = yaml.safe_load(_kubeconfig())
    cluster = document["clusters"][0]["cluster"]
    cluster["certificate-authority-data"] = base64.b64encode((pki / "ca.crt").read_bytes()).decode()
    del cluster["certificate-authority"]
    user = document["users"][0]["user"]
    for key in ("client-certificate", "client-key"):
        user[f"{key}-data"] = base64.b64encode(Path(user.pop(key)).read_bytes()).decode()
    return str(yaml.safe_dump(document))


def _start(name: str, *args: str) -> None:
    log = open(STATE / "log" / f"{name}.log", "ab")  # noqa: SIM115 (the process keeps it)
    process = subprocess.Popen(
        [str(BIN / name), *args], stdout=log, stderr=log, start_new_session=True, cwd=STATE
    )
    (STATE / "run" / f"{name}.pid").write_text(str(process.pid))


def _running(name: str) -> bool:
    pid_file = STATE / "run" / f"{name}.pid"
    if not pid_file.is_file():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def _kubectl_ready(timeout: float) -> None:
    """Wait until /readyz answers ok."""
    pki = STATE / "pki"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(
            ["curl", "-sf", "--cacert", str(pki / "ca.crt"), "--cert", str(pki / "admin.crt"),
             "--key", str(pki / "admin.key"), f"https://127.0.0.1:{API_PORT}/readyz"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.stdout.strip() == "ok":
            return
        time.sleep(0.5)
    raise ControlPlaneError(f"the API server did not become ready: see {STATE / 'log'}")


def etcd_flags(data_dir: Path) -> list[str]:
    """etcd as kubeadm runs it (TLS with client certificates on the client port), one
    member named ETCD_NAME whose data is in `data_dir`."""
    etcd = STATE / "pki" / "etcd"
    return [
        f"--data-dir={data_dir}", f"--name={ETCD_NAME}",
        f"--listen-client-urls={ETCD_URL}", f"--advertise-client-urls={ETCD_URL}",
        f"--cert-file={etcd / 'server.crt'}", f"--key-file={etcd / 'server.key'}",
        f"--trusted-ca-file={etcd / 'ca.crt'}", "--client-cert-auth=true",
        f"--listen-peer-urls={ETCD_PEER_URL}", f"--initial-advertise-peer-urls={ETCD_PEER_URL}",
        f"--initial-cluster={ETCD_NAME}={ETCD_PEER_URL}",
        f"--quota-backend-bytes={2 * 1024**3}",
    ]  # fmt: skip


def up(d: Deployment | None = None, fresh: bool = False) -> Path:
    """Start whatever is not running; write the admin kubeconfig; add the stack's nodes.
    `fresh`: stop it first and start from an empty etcd (a test session's cluster)."""
    if fresh:
        down()
        shutil.rmtree(STATE / "etcd", ignore_errors=True)
    missing = [p for p in PROCESSES if not (BIN / p).is_file()]
    if missing:
        raise ControlPlaneError(f"no {', '.join(missing)} in {BIN}: run `make kube` first")
    for folder in ("log", "run", "etcd"):
        (STATE / folder).mkdir(parents=True, exist_ok=True)
    _certificates()
    kubeconfig_path().write_text(_kubeconfig())
    pki = STATE / "pki"
    admission = STATE / "admission.yaml"
    admission.write_text(
        yaml.safe_dump(pod_security_admission(POD_SECURITY_ENFORCE, tuple(POD_SECURITY_EXEMPT)))
    )
    if not _running("etcd"):
        _start("etcd", *etcd_flags(STATE / "etcd"))
    if not _running("kube-apiserver"):
        _start("kube-apiserver", f"--etcd-servers={ETCD_URL}",
               f"--etcd-cafile={pki / 'etcd' / 'ca.crt'}",
               f"--etcd-certfile={pki / 'apiserver-etcd-client.crt'}",
               f"--etcd-keyfile={pki / 'apiserver-etcd-client.key'}",
               "--bind-address=127.0.0.1", f"--secure-port={API_PORT}",
               "--advertise-address=127.0.0.1",
               f"--tls-cert-file={pki / 'apiserver.crt'}",
               f"--tls-private-key-file={pki / 'apiserver.key'}",
               f"--client-ca-file={pki / 'ca.crt'}",
               f"--service-account-key-file={pki / 'sa.pub'}",
               f"--service-account-signing-key-file={pki / 'sa.key'}",
               "--service-account-issuer=https://kubernetes.default.svc",
               f"--service-cluster-ip-range={SERVICE_CIDR}",
               "--authorization-mode=Node,RBAC",
               f"--admission-control-config-file={admission}",
               "--enable-admission-plugins=NodeRestriction",
               # Webhook servers are pods, and no pod runs here: the API server would refuse
               # every object a webhook looks at. Schemas, CEL and Pod Security still apply.
               "--disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook",
               "--allow-privileged=true")  # fmt: skip
    _kubectl_ready(60)
    config = str(kubeconfig_path())
    if not _running("kube-controller-manager"):
        _start("kube-controller-manager", f"--kubeconfig={config}",
               f"--authentication-kubeconfig={config}", f"--authorization-kubeconfig={config}",
               "--bind-address=127.0.0.1", "--secure-port=0",
               f"--service-account-private-key-file={pki / 'sa.key'}",
               f"--root-ca-file={pki / 'ca.crt'}",
               f"--cluster-signing-cert-file={pki / 'ca.crt'}",
               f"--cluster-signing-key-file={pki / 'ca.key'}",
               "--use-service-account-credentials=true", "--leader-elect=false",
               # kwok's node heartbeats run beside the engine and the build on a busy
               # machine: a late one must not mark every node, and so every pod, NotReady
               # (kwok makes a pod Ready once; a pod marked NotReady stays so).
               "--node-monitor-grace-period=10m")  # fmt: skip
    if not _running("kube-scheduler"):
        _start("kube-scheduler", f"--kubeconfig={config}", "--secure-port=0",
               f"--authentication-kubeconfig={config}", f"--authorization-kubeconfig={config}",
               "--leader-elect=false")  # fmt: skip
    if not _running("kwok"):
        stages = sorted(str(p) for p in (HOME / "stage").glob("*.yaml"))
        _start("kwok", f"--kubeconfig={config}", "--manage-all-nodes=true",
               "--server-address=127.0.0.1:0", *(f"--config={s}" for s in stages))  # fmt: skip
    if d is not None:
        add_nodes(nodes_of(d))
    return kubeconfig_path()


def kubectl_json(method: str, path: str, body: object | None = None) -> object:
    """One API request as the admin (curl: no client library needed)."""
    pki = STATE / "pki"
    command = [
        "curl", "-sS", "--cacert", str(pki / "ca.crt"), "--cert", str(pki / "admin.crt"),
        "--key", str(pki / "admin.key"), "-X", method, "-H", "Content-Type: application/json",
        f"https://127.0.0.1:{API_PORT}{path}",
    ]  # fmt: skip
    if body is not None:
        command += ["--data-binary", "@-"]  # on stdin: a CRD is longer than an argument may be
    result = subprocess.run(
        command,
        input=None if body is None else json.dumps(body),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout) if result.stdout.strip() else None


def add_nodes(nodes: list[LocalNode]) -> None:
    """Nodes for kwok to keep Ready (an existing node is left as it is)."""
    for node in nodes:
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": node.name,
                "labels": {
                    **node.labels,
                    "kubernetes.io/hostname": node.name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
                "annotations": {"kwok.x-k8s.io/node": "fake"},
            },
            "spec": {
                "taints": [
                    {"key": k, "value": v, "effect": e} if v else {"key": k, "effect": e}
                    for k, v, e in node.taints
                ]
            },
            "status": {
                "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            },
        }
        kubectl_json("POST", "/api/v1/nodes", body)


def down() -> None:
    """Stop every process by its recorded id (newest first), waiting for each to exit (a
    next `up` must find its ports free); state stays for the next up."""
    for name in reversed(PROCESSES):
        pid_file = STATE / "run" / f"{name}.pid"
        if not pid_file.is_file():
            continue
        pid = int(pid_file.read_text())
        for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if not _alive(pid):
                break
        pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped child of this process stays a zombie until reaped.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--stack", help="add this stack's nodes (labels and taints)")
    parser.add_argument("--fresh", action="store_true", help="start from an empty etcd")
    args = parser.parse_args()
    if args.action == "down":
        down()
        return
    deployment = None
    if args.stack:
        from infra.stack.files import load_project, load_stack_file
        from infra.stack.validation import validate_stack_file

        deployment = validate_stack_file(load_stack_file(load_project(), args.stack))
    try:
        print(up(deployment, fresh=args.fresh))
    except ControlPlaneError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
