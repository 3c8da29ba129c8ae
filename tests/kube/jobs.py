"""A stored CronJob's pod run on this host, container by container, as its kubelet would.

kwok plays the kubelets and runs nothing, so a job's work (the etcd snapshot and its upload)
is done here from what the API server stores: each container's command and environment
(secretKeyRef values read from the stored Secret), init containers first, every volume a
folder on this host: an emptyDir a new one, a hostPath the folder the caller maps it to.
In-pod paths in commands and values are rewritten to those folders; a command's absolute
program path becomes the binary of that name in `tools` (the folders of what `make kube` and
tools/rclone.sh built, also first on the PATH), and `rewrites` says what else differs on
this host (the local etcd's port).
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.kube.control_plane import kubectl_json


def _value(namespace: str, variable: Mapping[str, Any]) -> str:
    if "value" in variable:
        return str(variable["value"])
    reference = variable["valueFrom"]["secretKeyRef"]
    secret = kubectl_json("GET", f"/api/v1/namespaces/{namespace}/secrets/{reference['name']}")
    assert isinstance(secret, dict) and "data" in secret, secret
    return base64.b64decode(secret["data"][reference["key"]]).decode()


def _program(path: str, tools: Sequence[Path]) -> str:
    if path.startswith("/"):
        for folder in tools:
            if (folder / Path(path).name).is_file():
                return str(folder / Path(path).name)
    return path


def run_cron_job(
    namespace: str,
    name: str,
    work: Path,
    host_paths: Mapping[str, Path],
    rewrites: Mapping[str, str],
    tools: Sequence[Path],
) -> None:
    """Run the CronJob's pod once (like `kubectl create job --from cronjob/NAME`); each
    container must succeed. `host_paths`: hostPath path -> folder here."""
    job = kubectl_json("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}")
    assert isinstance(job, dict) and job.get("kind") == "CronJob", job
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    volumes: dict[str, Path] = {}
    for volume in pod.get("volumes", []):
        if "emptyDir" in volume:
            volumes[volume["name"]] = work / volume["name"]
            volumes[volume["name"]].mkdir(parents=True)
        elif "hostPath" in volume:
            volumes[volume["name"]] = host_paths[volume["hostPath"]["path"]]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        mapping = dict(rewrites)
        for mount in container.get("volumeMounts", []):
            mapping[mount["mountPath"]] = str(volumes[mount["name"]])

        def here(text: str, mapping: dict[str, str] = mapping) -> str:
            for inside, outside in mapping.items():
                text = text.replace(inside, outside)
            return text

        command = [here(part) for part in container["command"]]
        command[0] = _program(container["command"][0], tools)
        environment = {v["name"]: here(_value(namespace, v)) for v in container.get("env", [])}
        result = subprocess.run(
            command,
            env={"PATH": os.pathsep.join([*map(str, tools), os.environ["PATH"]]), **environment},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, (
            f"{name}: container {container['name']} exited {result.returncode}\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
