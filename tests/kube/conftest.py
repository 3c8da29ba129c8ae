"""The Kubernetes tier: the whole program under the real engine, the cloud layer on the test
cloud and the platform layer on a local control plane (tests/kube/control_plane.py).

Charts come from the upstream snapshots through the stack's chart mirror, Qserv's operator
manifest through its file mirror; Calico's CRDs are created as a node creates them at boot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

from infra.program.mirror import file_url
from infra.stack.model import MirrorConfig
from infra.versions import CHART_REPOSITORIES, QSERV_OPERATOR_MANIFEST, pinned
from tests.cloud.conftest import admin, clouds_yaml, demo  # noqa: F401 (fixtures)
from tests.engine.conftest import engine_bin, make_engine, state_backend  # noqa: F401
from tests.kube import control_plane
from tests.support.tiers import mark_tier, unavailable

UPSTREAM = Path(
    os.environ.get("UKDAC_UPSTREAM_DIR", Path(__file__).parents[2].parent / "shared" / "upstream")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, "kube", pytest.mark.kube)


def _unavailable(reason: str) -> NoReturn:
    unavailable("UKDAC_REQUIRE_KUBE", reason)


@pytest.fixture
def cluster() -> Iterator[Path]:
    """A local control plane from an empty etcd for each test (about 10 s), stopped by
    process id after: one shape's leftovers (a retained release) never meet the next's."""
    missing = [p for p in control_plane.PROCESSES if not (control_plane.BIN / p).is_file()]
    if missing:
        _unavailable(f"no {', '.join(missing)} in {control_plane.BIN}: run `make kube`")
    if not UPSTREAM.is_dir():
        _unavailable(f"no upstream snapshots at {UPSTREAM} (UKDAC_UPSTREAM_DIR)")
    kubeconfig = control_plane.up(fresh=True)
    try:
        _calico_crds()
        _cilium_crds()
        yield kubeconfig
    finally:
        control_plane.down()


def _calico_crds() -> None:
    """Calico's CRDs, created as the control plane's cloud-init creates them at boot (the
    metadata guard's Tier and GlobalNetworkPolicy need their kinds)."""
    text = (UPSTREAM / "calico-v3.30.2" / "operator-crds.yaml").read_text()
    for document in yaml.safe_load_all(text):
        if document and document.get("kind") == "CustomResourceDefinition":
            control_plane.kubectl_json(
                "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", document
            )


def _cilium_crds() -> None:
    """Cilium's CRDs at the pinned version (its operator registers them on a real cluster),
    from cilium's Go module: the metadata guard's CiliumClusterwideNetworkPolicy needs the
    kind. The module is fetched through the Go module proxy into `make engine`'s cache."""
    version = pinned("cilium")
    home = Path(os.environ.get("UKDAC_ENGINE_HOME", Path.home() / ".cache" / "ukdac" / "engine"))
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"github.com/cilium/cilium@v{version}"],
        env={**os.environ, "GOMODCACHE": str(home / "go" / "mod"), "GOFLAGS": "-mod=mod"},
        capture_output=True,
        text=True,
        check=True,
    )
    folder = Path(json.loads(result.stdout)["Dir"]) / "pkg/k8s/apis/cilium.io/client/crds/v2"
    for crd in sorted(folder.glob("*.yaml")):
        control_plane.kubectl_json(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            yaml.safe_load(crd.read_text()),
        )


@pytest.fixture(scope="session")
def rclone() -> Path:
    """The uploader at its pinned version (tools/rclone.sh, as for the cloud tier)."""
    value = os.environ.get("UKDAC_RCLONE")
    if not value or not Path(value).is_file():
        _unavailable("UKDAC_RCLONE is unset: `make test-kube` builds rclone with tools/rclone.sh")
    return Path(value)


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> MirrorConfig:
    """A chart mirror of the pinned versions from the snapshots, and a file mirror with
    Qserv's operator manifest. argo-cd 10.1.1 stands in for the pinned 10.2.2 (its version
    set to the pin); dependencies a snapshot does not carry (disabled by default) are dropped."""
    root = tmp_path_factory.mktemp("mirror")
    charts = root / "charts"
    charts.mkdir()
    for name in CHART_REPOSITORIES:
        version = pinned(f"chart/{name}")
        source = UPSTREAM / "charts" / f"{name}-{version}"
        if not source.is_dir():
            (source,) = sorted((UPSTREAM / "charts").glob(f"{name}-*"))
        target = charts / f"{name}-{version}"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
        chart_file = target / "Chart.yaml"
        chart = yaml.safe_load(chart_file.read_text())
        chart["version"] = version
        chart["dependencies"] = [
            d for d in chart.get("dependencies") or [] if (target / "charts" / d["name"]).is_dir()
        ]
        chart_file.write_text(yaml.safe_dump(chart))
    files = root / "files"
    url = QSERV_OPERATOR_MANIFEST.format(commit=pinned("qserv-operator"))
    path = files / file_url(MirrorConfig(files="file:///m"), url).removeprefix("file:///m/")
    path.parent.mkdir(parents=True)
    shutil.copy(UPSTREAM / "qserv-operator" / "manifests" / "operator.yaml", path)
    return MirrorConfig(charts=str(charts), files=f"file://{files}")
