"""Control plane 0's first boot decision, run for real by `sh`: initialise a new cluster,
or join the running one through a peer whose API answers (a replacement of a lost first
node). `curl` and `kubeadm` are stand-ins on PATH that record what they were asked."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.kubeadm.cloud_init import (
    KUBEADM_CONFIG,
    KUBEADM_JOIN_CONFIG,
    Rejoin,
    init_or_join,
    once_initialised,
)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("sh", "sed")), reason="needs sh and sed"
)

API = "kube-api.ukdac-prod.internal"
OWN, PEERS = "10.10.0.10", ("10.10.0.11", "10.10.0.12")
HOSTS = f"127.0.0.1 localhost\n{OWN} {API}\n"

# curl answers for the addresses in $UP; kubeadm logs its arguments and, at that moment,
# which address the API name resolves to, then exits with $KUBEADM_EXIT.
CURL = """#!/bin/sh
for arg; do url=$arg; done
address=${url#https://}; address=${address%%:*}
case " $UP " in *" $address "*) exit 0 ;; esac
exit 7
"""
KUBEADM = """#!/bin/sh
echo "$* | $(grep -F " $API_NAME" "$HOSTS_FILE" | cut -d' ' -f1)" >> "$LOG"
exit "${KUBEADM_EXIT:-0}"
"""


@dataclass
class Boot:
    returncode: int
    calls: list[str]
    hosts: str
    initialised: bool
    stdout: str


def _boot(tmp_path: Path, up: tuple[str, ...] = (), kubeadm_exit: int = 0) -> Boot:
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    for name, text in (("curl", CURL), ("kubeadm", KUBEADM)):
        (tools / name).write_text(text)
        (tools / name).chmod(stat.S_IRWXU)
    hosts, mark, log = tmp_path / "hosts", tmp_path / "initialised", tmp_path / "log"
    hosts.write_text(HOSTS)
    line = init_or_join(Rejoin("join: {}", PEERS, API, OWN), hosts=str(hosts), mark=str(mark))
    script = f"{line}\n{once_initialised('echo install-the-pod-network', str(mark))}\necho next"
    env = {
        **os.environ,
        "PATH": f"{tools}:{os.environ['PATH']}",
        "UP": " ".join(up),
        "KUBEADM_EXIT": str(kubeadm_exit),
        "LOG": str(log),
        "HOSTS_FILE": str(hosts),
        "API_NAME": API,
    }
    result = subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return Boot(result.returncode, calls, hosts.read_text(), mark.exists(), result.stdout)


def test_the_first_boot_of_a_cluster_initialises_it_and_installs_the_pod_network(
    tmp_path: Path,
) -> None:
    boot = _boot(tmp_path)
    assert boot.returncode == 0
    assert boot.calls == [f"init --config {KUBEADM_CONFIG} | {OWN}"]
    assert boot.initialised and "install-the-pod-network" in boot.stdout
    assert boot.hosts == HOSTS


def test_a_replacement_joins_through_the_peer_that_answers_and_restores_the_api_name(
    tmp_path: Path,
) -> None:
    boot = _boot(tmp_path, up=(PEERS[1],))  # control plane 1 is down, 2 answers
    assert boot.returncode == 0
    # During the join the API name points at the peer; afterwards at this node again.
    assert boot.calls == [f"join --config {KUBEADM_JOIN_CONFIG} | {PEERS[1]}"]
    assert boot.hosts == HOSTS
    # The cluster exists already: no second pod-network install, the boot goes on.
    assert not boot.initialised and "install-the-pod-network" not in boot.stdout
    assert "next" in boot.stdout


def test_a_failed_join_stops_the_boot_without_initialising(tmp_path: Path) -> None:
    boot = _boot(tmp_path, up=PEERS, kubeadm_exit=1)
    assert boot.returncode == 1
    assert boot.calls == [f"join --config {KUBEADM_JOIN_CONFIG} | {PEERS[0]}"]
    assert boot.hosts == HOSTS and not boot.initialised and "next" not in boot.stdout


def test_a_failed_init_stops_the_boot_before_the_pod_network(tmp_path: Path) -> None:
    boot = _boot(tmp_path, kubeadm_exit=1)
    assert boot.returncode == 1
    assert not boot.initialised and "install-the-pod-network" not in boot.stdout
