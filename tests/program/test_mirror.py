"""Charts and files from a mirror, with the same pins; the platform layer on another cluster."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.plan.engine import plan_stack
from infra.program.mirror import MirrorError, chart, file_url, manifest, node_url
from infra.stack.files import Project
from infra.stack.model import MirrorConfig
from infra.versions import CHART_REPOSITORIES, QSERV_OPERATOR_MANIFEST, pinned
from policies.rules import run_all
from policies.views import from_plan
from tests.support.stacks import DEV, stack_document, with_changes

MakeProject = Callable[..., Project]
QSERV = QSERV_OPERATOR_MANIFEST.format(commit=pinned("qserv-operator"))


def test_charts_come_from_their_repository_without_a_mirror() -> None:
    ref = chart(MirrorConfig(), "vault")
    assert (ref.chart, ref.version, ref.repository) == (
        "vault",
        pinned("chart/vault"),
        CHART_REPOSITORIES["vault"],
    )


def test_a_chart_mirror_gives_archives_directories_or_oci(tmp_path: Path) -> None:
    version = pinned("chart/vault")
    (tmp_path / f"vault-{version}.tgz").write_bytes(b"archive")
    local = MirrorConfig(charts=str(tmp_path))
    assert chart(local, "vault").chart == str(tmp_path / f"vault-{version}.tgz")
    # No archive: the unpacked chart's directory.
    cert = pinned("chart/cert-manager")
    assert chart(local, "cert-manager").chart == str(tmp_path / f"cert-manager-{cert}")
    oci = chart(MirrorConfig(charts="oci://registry.example:5000/charts"), "vault")
    assert (oci.chart, oci.version, oci.repository) == (
        "oci://registry.example:5000/charts/vault",
        version,
        "",
    )


def test_files_sit_under_the_mirror_at_host_and_path() -> None:
    mirror = MirrorConfig(files="https://mirror.example/ukdac")
    url = "https://raw.githubusercontent.com/projectcalico/calico/v3.30.2/manifests/x.yaml"
    expected = (
        "https://mirror.example/ukdac/raw.githubusercontent.com/projectcalico/calico/"
        "v3.30.2/manifests/x.yaml"
    )
    assert file_url(mirror, url) == node_url(mirror, url) == expected
    # Nodes cannot read the operator's disk: a file:// mirror leaves their downloads upstream.
    assert node_url(MirrorConfig(files="file:///srv/mirror"), url) == url
    assert file_url(MirrorConfig(), url) == url


def _mirrored_qserv(root: Path, content: bytes) -> MirrorConfig:
    path = root / file_url(MirrorConfig(files="file:///x"), QSERV).removeprefix("file:///x/")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return MirrorConfig(files=f"file://{root}")


def test_a_mirrored_manifest_is_read_only_with_its_pinned_sha256(tmp_path: Path) -> None:
    upstream = Path(__file__).parents[2].parent / "shared" / "upstream" / "qserv-operator"
    original = upstream / "manifests" / "operator.yaml"
    if original.is_file():
        content = original.read_bytes()
        assert hashlib.sha256(content).hexdigest() == "9e97d75f" + (
            "fdfe32d53ed249607699c0332bf6ad7620b49449c17bdcf7b9939aed"
        )
        good = _mirrored_qserv(tmp_path / "good", content)
        assert manifest(good, QSERV).endswith("manifests/operator.yaml")
    bad = _mirrored_qserv(tmp_path / "bad", b"kind: Deployment\n")
    with pytest.raises(MirrorError, match=r"has sha256 .* but .* is pinned to 9e97d75f"):
        manifest(bad, QSERV)
    with pytest.raises(MirrorError, match="cannot read"):
        manifest(MirrorConfig(files=f"file://{tmp_path / 'none'}"), QSERV)
    assert manifest(MirrorConfig(), QSERV) == QSERV


def test_a_plan_with_a_chart_mirror_keeps_every_version_and_passes_the_pack(
    make_project: MakeProject, tmp_path: Path
) -> None:
    mirrored = with_changes(DEV, **{"mirror.charts": str(tmp_path)})
    project = make_project({"ukdac-dev": stack_document(mirrored)})
    plan = plan_stack(project, "ukdac-dev")
    releases = [r for r in plan.resources if r.type == "kubernetes:helm.sh/v3:Release"]
    assert releases
    for release in releases:
        assert "repositoryOpts" not in release.inputs
        assert str(release.inputs["chart"]).startswith(str(tmp_path) + "/")
        assert str(release.inputs["chart"]).endswith(f"-{release.inputs['version']}")
    view = from_plan(plan, ("129.215.0.0/16",), frozenset())
    assert [v for v in run_all(view) if v.policy == "charts-pinned"] == []


def test_the_platform_layer_can_use_a_kubeconfig_the_stack_gives(
    make_project: MakeProject,
) -> None:
    def provider_kubeconfig(raw: dict[str, object]) -> object:
        project = make_project({"ukdac-dev": stack_document(raw)})
        plan = plan_stack(project, "ukdac-dev")
        (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:kubernetes"]
        return provider.inputs["kubeconfig"]

    made = provider_kubeconfig(DEV)
    given = provider_kubeconfig(
        with_changes(DEV, **{"cluster.kubeconfig": {"secure": "v1:c29tZWNvbmZpZw=="}})
    )
    assert str(given).startswith("[secret:") and given != made
