"""The phalanx tier: every stack's values written into a copy of the real fork, loaded by
phalanx's own models, and the bootstrap compared with what phalanx's Applications render.

Needs UKDAC_PHALANX_DIR (a phalanx checkout) and a Python >= 3.13 for phalanx's library
(found as `infra.ops.phalanx_library` finds it); `.ci/run` requires both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.phalanx_checkout import PhalanxCheckout, PhalanxCheckoutError, changes_for
from infra.ops.phalanx_library import (
    LoadedEnvironment,
    find_python,
    load_environment,
    phalanx_python,
)
from infra.plan.model import PlannedResource
from infra.stack.deployment import Deployment
from infra.stack.files import load_project, load_stack_file
from infra.stack.phalanx import (
    OWNED_BY_UKDAC,
    argocd_values,
    bootstrap_data,
    provided_secrets,
    vault_secrets_operator_values,
)
from infra.stack.validation import validate
from infra.versions import pinned
from tests.support.helm import (
    ObjectKey,
    application_values,
    object_key,
    render,
    render_release,
)
from tests.support.stacks import ROOT, STACKS, config, planned
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream

# For environments the fork does not have yet (their GitHub OAuth app is registered by the
# team before the first write; the writer refuses without it, tested below).
FIXTURE_IDENTITY = {
    "github": {"clientId": "fixture-client-id", "teams": {"lsp-uk/dev": ["exec:notebook"]}}
}


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "tools/phalanx_bootstrap.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _deployment(stack: str, checkout: PhalanxCheckout) -> Deployment:
    """The stack as checked in, with the fixture identity where the fork needs one."""
    d = config(stack)
    env = d.config.phalanx.environment
    if d.config.phalanx.identity or checkout.read(f"applications/gafaelfawr/values-{env}.yaml"):
        return d
    stack_file = load_stack_file(load_project(ROOT), stack)
    raw = stack_file.namespace()
    raw["phalanx"] = {**raw["phalanx"], "identity": FIXTURE_IDENTITY}
    return validate(raw, stack, "fixture", set(stack_file.secure_paths))


@cache
def _fork() -> tuple[Path, dict[str, LoadedEnvironment]]:
    """A copy of the fork with every stack written into it, and phalanx's view of each."""
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork = Path(tempfile.mkdtemp(prefix="ukdac-phalanx-")) / "phalanx"
    shutil.copytree(source, fork, ignore=shutil.ignore_patterns(".git"))
    checkout = PhalanxCheckout(fork)
    loaded = {}
    for stack in STACKS:
        d = _deployment(stack, checkout)
        for change in changes_for(checkout, d):
            checkout.write(change)
        loaded[stack] = load_environment(fork, d)
    return fork, loaded


# Run by phalanx's own interpreter in the written fork: phalanx's documentation test for
# environments (every environment has a page and a toctree line), then what Sphinx does for
# each page's `.. jinja::` directive: phalanx's contexts, and its summary template rendered
# with the environment's.
_DOCS_CHECK = """
import os, runpy, sys
from pathlib import Path
import jinja2
fork = Path(sys.argv[1])
runpy.run_path(str(fork / "tests/docs/environments_test.py"))["test_environments"]()
os.chdir(fork / "docs")
from phalanx.docs.jinja import build_jinja_contexts
contexts = build_jinja_contexts()
template = jinja2.Template((fork / "docs/environments/_summary.rst.jinja").read_text())
for env in sys.argv[2:]:
    print(env, len(template.render(**contexts[env])))
"""


def test_phalanx_documents_every_environment_ukdac_writes() -> None:
    fork, _ = _fork()
    environments = [config(stack).config.phalanx.environment for stack in STACKS]
    for env in environments:
        page = (fork / "docs" / "environments" / env / "index.rst").read_text()
        assert page.startswith(f".. px-env:: {env}\n")
    result = subprocess.run(
        [str(phalanx_python(fork)), "-c", _DOCS_CHECK, str(fork), *environments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rendered = dict(line.split() for line in result.stdout.splitlines())
    assert sorted(rendered) == sorted(environments)
    assert all(int(size) > 100 for size in rendered.values()), rendered


def _suite_failures(python: Path, tree: Path) -> tuple[int, set[str]]:
    """phalanx's own test suite run in `tree` (its sources first on the path): passed count
    and the ids of what failed."""
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "tests"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree / "src")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE))
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed, result.stdout[-3000:]
    return int(passed.group(1)), failed


def test_phalanxs_whole_suite_accepts_the_written_fork(tmp_path: Path) -> None:
    """phalanx's whole test suite gives the written fork exactly the pristine fork's result.
    (Here some of its tests fail on both: they need the `helm` binary this machine lacks.)"""
    fork, _ = _fork()
    pristine = upstream_dir("UKDAC_PHALANX_DIR")
    venv = tmp_path / "venv"
    env = {**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}
    for step in (
        [find_python(), "-m", "venv", str(venv)],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            str(fork),
            "pytest",
            "pytest-mock",
        ],
    ):
        subprocess.run(step, env=env, check=True, capture_output=True, timeout=900)
    copy = tmp_path / "pristine"
    shutil.copytree(pristine, copy, ignore=shutil.ignore_patterns(".git"))
    python = venv / "bin" / "python"
    before, after = _suite_failures(python, copy), _suite_failures(python, fork)
    assert before[0] > 50, before
    assert after == before


def test_the_bootstrap_data_is_the_forks() -> None:
    phalanx = upstream_dir("UKDAC_PHALANX_DIR")
    generated = _tool().generate(phalanx, "any")
    committed = bootstrap_data()
    assert {k: v for k, v in generated.items() if k != "source"} == {
        k: v for k, v in committed.items() if k != "source"
    }, "run tools/phalanx_bootstrap.py against the fork"
    assert committed["argocd"]["chart"]["version"] == pinned("chart/argo-cd")
    assert committed["vault-secrets-operator"]["chart"]["version"] == pinned(
        "chart/vault-secrets-operator"
    )


def test_two_cold_secrets_runs_at_once_both_succeed(tmp_path: Path) -> None:
    """Two `ukdac secrets --phalanx-dir` at once on an empty cache: one installs phalanx's
    library, the other waits and shares it (before: both failed, and so did every later run)."""
    fork, _ = _fork()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [str(ROOT / ".venv" / "bin" / "ukdac"), "secrets", "ukdac-dev", "--phalanx-dir"]
    runs = [
        subprocess.Popen(
            [*command, str(fork)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=900), *run.communicate()) for run in runs]
    for code, _, err in results:
        assert code == 0, err[-3000:]
    assert results[0][1] == results[1][1]
    assert sum("installing phalanx from" in err for _, _, err in results) == 1
    (venv,) = [p for p in (tmp_path / "cache" / "ukdac").iterdir() if p.is_dir()]
    assert (venv / ".ukdac-installed").is_file()


def test_new_environments_need_an_identity_before_the_first_write(tmp_path: Path) -> None:
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork = tmp_path / "phalanx"
    shutil.copytree(source, fork, ignore=shutil.ignore_patterns(".git"))
    checkout = PhalanxCheckout(fork)
    with pytest.raises(PhalanxCheckoutError, match=r"ukdac:phalanx\.identity"):
        changes_for(checkout, config("ukdac-test"))


@pytest.mark.parametrize("stack", STACKS)
def test_phalanx_loads_every_environment_ukdac_writes(stack: str) -> None:
    _, loaded = _fork()
    environment = loaded[stack]
    # phalanx installs neither the ingress nor cert-manager: ukdac's releases are the only ones.
    assert not set(OWNED_BY_UKDAC) & set(environment.applications)
    assert {"argocd", "gafaelfawr", "vault-secrets-operator"} <= set(environment.applications)
    # Every Helm release Pulumi keeps managing is one no phalanx Application installs.
    managed = {
        r.inputs["name"]
        for r in planned(stack).find("kubernetes:helm.sh/v3:Release")
        if "values" not in (r.options.get("ignoreChanges") or [])
    }
    assert not managed & set(environment.applications), managed & set(environment.applications)
    handed_over = {
        r.inputs["name"]
        for r in planned(stack).find("kubernetes:helm.sh/v3:Release")
        if "values" in (r.options.get("ignoreChanges") or [])
    }
    assert handed_over == {"argocd", "vault-secrets-operator"} <= set(environment.applications)
    # ukdac's secrets are among those phalanx requires, so its audit keeps them.
    required = {(s.application, s.key) for s in environment.secrets}
    provided = {
        (s.application, s.key)
        for s in provided_secrets(config(stack))
        if s.application in environment.applications
    }
    assert provided <= required
    if "tap" in environment.applications:
        assert provided, "the fork's TAP reads its S3 keys from what ukdac provides"


@pytest.mark.parametrize("stack", ["ukdac-dev", "ukdac-prod"])
def test_live_environments_keep_their_applications_and_keys(stack: str) -> None:
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork, _ = _fork()
    env = config(stack).config.phalanx.environment
    for path in sorted(source.glob(f"**/values-{env}.yaml")):
        relative = path.relative_to(source)
        before = yaml.safe_load(path.read_text()) or {}
        after = yaml.safe_load((fork / relative).read_text()) or {}
        assert _paths(before) <= _paths(after), relative
    applications = yaml.safe_load((fork / f"environments/values-{env}.yaml").read_text())
    for app in ("mobu", "nublado", "portal", "postgres", "squareone", "tap", "ssotap"):
        assert applications["applications"][app] is True


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict) and value:
        return {p for k, v in value.items() for p in _paths(v, f"{prefix}.{k}")}
    return {prefix}


# What Pulumi lets go of once phalanx owns it: a handed-over resource ignores every change to
# what it manages and is retained on delete.
_MANAGED_BY_RELEASE = {"chart", "version", "values"}


def _handed_over(resource: PlannedResource) -> bool:
    ignored = set(resource.options.get("ignoreChanges") or [])
    if not resource.options.get("retainOnDelete"):
        return False
    if resource.type == RELEASE:
        return ignored >= _MANAGED_BY_RELEASE
    managed = set(resource.inputs) - {"apiVersion", "kind", "metadata"}
    return managed <= ignored and bool(managed or "metadata" in ignored)


RELEASE = "kubernetes:helm.sh/v3:Release"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"


def _release_key(name: str, namespace: str) -> ObjectKey:
    """A Helm release as an object, so an Application and a Release can collide."""
    return ObjectKey("helm.sh", "Release", namespace, name)


@dataclass(frozen=True)
class Owner:
    what: str
    handed_over: bool = False


def _app_of_apps(stack: str) -> dict[str, Any]:
    (application,) = planned(stack).find(APPLICATION)
    return dict(application.inputs)


@cache
def _app_of_apps_rendered(stack: str) -> list[dict[str, Any]]:
    """What the app of apps ukdac declares renders from the fork (its source and values)."""
    fork, _ = _fork()
    app_of_apps = _app_of_apps(stack)
    source = app_of_apps["spec"]["source"]
    chart = fork / source["path"]
    values = application_values(chart, source["helm"])
    return render(chart, values, app_of_apps["metadata"]["name"], "argocd")


def _applications(stack: str) -> list[dict[str, Any]]:
    return [m for m in _app_of_apps_rendered(stack) if m["kind"] == "Application"]


@cache
def _phalanx_owned(stack: str) -> dict[ObjectKey, list[Owner]]:
    """Every object Argo CD would own: what the app of apps renders from ukdac's Application,
    then each child Application's release and the objects of its chart's own templates."""
    fork, _ = _fork()
    owned: dict[ObjectKey, list[Owner]] = {}
    name = _app_of_apps(stack)["metadata"]["name"]
    for manifest in _app_of_apps_rendered(stack):
        owned.setdefault(object_key(manifest, "argocd"), []).append(Owner(f"app of apps {name}"))
    for application in _applications(stack):
        spec = application["spec"]
        app = application["metadata"]["name"]
        namespace = spec["destination"]["namespace"]
        helm = spec["source"].get("helm", {})
        release = helm.get("releaseName", app)
        owner = Owner(f"Application {app}")
        owned.setdefault(_release_key(release, namespace), []).append(owner)
        app_chart = fork / spec["source"]["path"]
        for manifest in render(app_chart, application_values(app_chart, helm), release, namespace):
            owned.setdefault(object_key(manifest, namespace), []).append(owner)
    return owned


@cache
def _ukdac_owned(stack: str) -> tuple[dict[ObjectKey, list[Owner]], frozenset[str]]:
    """Every object ukdac's plan makes: its Kubernetes resources, its Helm releases, and
    what the releases Pulumi keeps managing render; and the charts (of those releases) with
    no snapshot in UKDAC_CHARTS_DIR, whose objects could not be compared."""
    owned: dict[ObjectKey, list[Owner]] = {}
    unrendered: set[str] = set()
    charts = upstream_dir("UKDAC_CHARTS_DIR")
    operator = upstream_dir("UKDAC_QSERV_OPERATOR_DIR") / "manifests" / "operator.yaml"
    for resource in planned(stack).resources:
        if not resource.type.startswith("kubernetes:"):
            continue
        owner = Owner(f"{resource.type} {resource.name}", _handed_over(resource))
        inputs = resource.inputs
        manifests: list[dict[str, Any]] = []
        if resource.type == RELEASE:
            namespace = inputs["namespace"]
            # A namespace made by `createNamespace` is not the release's: Helm creates it only
            # when missing and never updates or deletes it.
            owned.setdefault(_release_key(inputs["name"], namespace), []).append(owner)
            if not owner.handed_over:
                objects = render_release(inputs, charts)
                if objects is None:
                    unrendered.add(f"{inputs['chart']} {inputs['version']}")
                manifests.extend(objects or [])
        elif resource.type == "kubernetes:yaml/v2:ConfigFile":
            assert resource.name == "qserv-operator", resource.name
            manifests = [m for m in yaml.safe_load_all(operator.read_text()) if m]
            namespace = "default"
        elif resource.type.startswith("kubernetes:") and "metadata" in inputs:
            manifests = [inputs]
            namespace = "default"
        else:
            continue
        for manifest in manifests:
            owned.setdefault(object_key(manifest, namespace), []).append(owner)
    return owned, frozenset(unrendered)


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_of_apps_points_every_application_at_the_fork(stack: str) -> None:
    d = config(stack)
    app_of_apps = _app_of_apps(stack)
    source = app_of_apps["spec"]["source"]
    assert (source["repoURL"], source["targetRevision"]) == (
        d.config.phalanx.repository,
        d.config.phalanx.revision,
    )
    children = [k for k in _phalanx_owned(stack) if k.kind == "Application"]
    _, loaded = _fork()
    # phalanx's models and the rendered chart agree on which applications run (an enabled
    # application may bring companions, as nublado brings nublado-users).
    rendered = {k.name for k in children}
    enabled = set(loaded[stack].applications)
    assert enabled <= rendered, enabled - rendered
    assert all(any(n.startswith(f"{e}-") for e in enabled) for n in rendered - enabled)
    for application in _applications(stack):
        child = application["spec"]["source"]
        assert (child["repoURL"], child["targetRevision"]) == (
            d.config.phalanx.repository,
            d.config.phalanx.revision,
        ), application["metadata"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_object_is_owned_by_both_ukdac_and_phalanx(stack: str) -> None:
    """Where both make an object, ukdac's half is a bootstrap handed over to Argo CD;
    everything ukdac hands over is something an Application then owns."""
    ukdac, unrendered = _ukdac_owned(stack)
    phalanx = _phalanx_owned(stack)
    twice = {
        str(key): [o.what for o in ukdac[key] if not o.handed_over] + [o.what for o in owners]
        for key, owners in phalanx.items()
        if key in ukdac and not all(o.handed_over for o in ukdac[key])
    }
    assert not twice, twice
    handed_over = {key for key, owners in ukdac.items() if any(o.handed_over for o in owners)}
    assert handed_over <= set(phalanx), sorted(map(str, handed_over - set(phalanx)))
    assert {
        _release_key("argocd", "argocd"),
        _release_key("vault-secrets-operator", "vault-secrets-operator"),
    } <= handed_over
    within_phalanx = {str(k): [o.what for o in v] for k, v in phalanx.items() if len(v) > 1}
    assert not within_phalanx, within_phalanx
    assert not unrendered, f"no chart snapshot in UKDAC_CHARTS_DIR for {sorted(unrendered)}"


@pytest.mark.parametrize("app", ["argocd", "vault-secrets-operator"])
@pytest.mark.parametrize("stack", STACKS)
def test_each_bootstrap_release_is_the_one_phalanxs_application_renders(
    stack: str, app: str
) -> None:
    """Adoption without a diff: release name, namespace, chart, version, repository and
    values as the rendered Application gives them (its value files and Helm parameters, its
    chart's dependency), and as ukdac's values functions compute them."""
    fork, _ = _fork()
    (application,) = [m for m in _applications(stack) if m["metadata"]["name"] == app]
    spec = application["spec"]
    chart_dir = fork / spec["source"]["path"]
    (dependency,) = yaml.safe_load((chart_dir / "Chart.yaml").read_text())["dependencies"]
    values = application_values(chart_dir, spec["source"]["helm"])
    (release,) = [r for r in planned(stack).find(RELEASE) if r.inputs["name"] == app]
    assert release.inputs["name"] == spec["source"]["helm"].get("releaseName", app)
    assert release.inputs["namespace"] == spec["destination"]["namespace"]
    assert release.inputs["chart"] == dependency["name"]
    assert release.inputs["version"] == dependency["version"]
    repository = release.inputs["repositoryOpts"]["repo"]
    assert repository.rstrip("/") == dependency["repository"].rstrip("/")
    expected = values[dependency.get("alias", dependency["name"])]
    assert release.inputs["values"] == expected
    d = _deployment(stack, PhalanxCheckout(fork))
    computed = argocd_values(d) if app == "argocd" else vault_secrets_operator_values(d)
    assert json.loads(json.dumps(computed)) == expected
