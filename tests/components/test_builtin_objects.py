"""`BuiltinObject` must register exactly what the SDK's typed classes register.

ukdac avoids importing `pulumi_kubernetes.core.v1` at plan time (see
`components/kubernetes/builtin_objects.py`); these tests hold it to the SDK's registration,
field for field and option for option, so the provider cannot tell the two apart.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import json_format

from components.kubernetes.builtin_objects import (
    CRON_JOB,
    HELM_RELEASE,
    NAMESPACE,
    SECRET,
    SERVICE_ACCOUNT,
    STORAGE_CLASS,
    YAML_CONFIG_FILE,
    BuiltinObject,
    Kind,
    RemoteComponent,
)
from infra.plan import engine
from infra.plan.engine import run_callable
from tests.support.stacks import ROOT

# Where the calling line is: differs between the two programs by construction.
_POSITION_KEYS = ("sourcePosition", "stackTrace")


def _requests(program: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every RegisterResource request the program sends, as the engine would receive it."""
    seen: list[Any] = []
    original = engine.RecordingMonitor.RegisterResource

    def capture(self: engine.RecordingMonitor, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            message = json_format.MessageToDict(request)
            for key in _POSITION_KEYS:
                message.pop(key, None)
            seen.append(message)
        return original(self, request)

    with monkeypatch.context() as patch:
        patch.setattr(engine.RecordingMonitor, "RegisterResource", capture)
        run_callable(program)
    return seen


def _meta(**kwargs: Any) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(**kwargs)


# (kind, SDK class path, the object's fields by their Kubernetes names); the SDK class takes
# the same fields in snake_case. Built inside each program: outputs belong to their run.
CASES: list[tuple[Kind, str, Callable[[], dict[str, Any]]]] = [
    (NAMESPACE, "core.v1.Namespace", lambda: {"metadata": _meta(name="qserv", labels={"a": "b"})}),
    (
        SECRET,
        "core.v1.Secret",
        lambda: {
            "metadata": _meta(name="s3", namespace="tap"),
            "type": "Opaque",
            "stringData": {"KEY": "plain", "OTHER": pulumi.Output.secret("hidden")},
        },
    ),
    (
        SECRET,
        "core.v1.Secret",
        lambda: {"metadata": _meta(name="b"), "data": {"k": "dmFsdWU="}, "immutable": True},
    ),
    (
        STORAGE_CLASS,
        "storage.v1.StorageClass",
        lambda: {
            "metadata": _meta(name="fast", annotations={"x": "true"}),
            "provisioner": "cinder.csi.openstack.org",
            "reclaimPolicy": "Retain",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True,
            "parameters": {"type": "ssd"},
            "mountOptions": ["noatime"],
        },
    ),
    (
        SERVICE_ACCOUNT,
        "core.v1.ServiceAccount",
        lambda: {
            "metadata": _meta(name="sa", namespace="vault"),
            "automountServiceAccountToken": False,
        },
    ),
    (
        CRON_JOB,
        "batch.v1.CronJob",
        lambda: {
            "metadata": _meta(name="job", namespace="kube-system"),
            "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {}}}},
        },
    ),
    (
        HELM_RELEASE,
        "helm.v3.Release",
        lambda: {
            "name": "vault",
            "chart": "vault",
            "version": "0.31.0",
            "repositoryOpts": {"repo": "https://helm.releases.hashicorp.com"},
            "namespace": "vault",
            "createNamespace": True,
            "atomic": True,
            "cleanupOnFail": True,
            "timeout": 900,
            "values": {"server": {"ha": {"enabled": True}}, "snake_key": pulumi.Output.secret("s")},
        },
    ),
    (
        HELM_RELEASE,
        "helm.v3.Release",
        lambda: {"name": "local", "chart": "/srv/charts/argo-cd-10.1.1.tgz", "version": "10.1.1"},
    ),
    (YAML_CONFIG_FILE, "yaml.v2.ConfigFile", lambda: {"file": "file:///srv/qserv/operator.yaml"}),
]

# The provider's components are registered by RemoteComponent, the rest by BuiltinObject.
TWINS: dict[Kind, Callable[..., pulumi.Resource]] = {YAML_CONFIG_FILE: RemoteComponent}


def _snake(fields: dict[str, Any]) -> dict[str, Any]:
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in fields.items()}


def _sdk_class(path: str) -> Any:
    node: Any = k8s
    for part in path.split("."):
        node = getattr(node, part)
    return node


@pytest.mark.parametrize(
    ("kind", "sdk_path", "fields"),
    CASES,
    ids=[
        "namespace",
        "secret-stringData",
        "secret-data",
        "storageclass",
        "serviceaccount",
        "cronjob",
        "helm-release",
        "helm-release-local-chart",
        "yaml-config-file",
    ],
)
def test_registration_equals_the_sdk_class(
    kind: Kind,
    sdk_path: str,
    fields: Callable[[], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sdk_class = _sdk_class(sdk_path)

    def with_sdk() -> None:
        parent = pulumi.ComponentResource("t:index:Parent", "p")
        sdk_class(
            "obj", **_snake(fields()), opts=pulumi.ResourceOptions(parent=parent, protect=True)
        )

    def with_builtin() -> None:
        parent = pulumi.ComponentResource("t:index:Parent", "p")
        TWINS.get(kind, BuiltinObject)(
            "obj", kind, opts=pulumi.ResourceOptions(parent=parent, protect=True), **fields()
        )

    expected = _requests(with_sdk, monkeypatch)
    actual = _requests(with_builtin, monkeypatch)
    assert [r["type"] for r in actual] == ["t:index:Parent", kind.token]
    assert actual == expected
    registered = actual[1]
    assert registered["version"]  # the plugin version the SDK pins, not left to the engine
    for field in kind.secret_fields:  # secret in, and marked to come back secret
        assert field in registered["additionalSecretOutputs"]


def test_an_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="Secret has no field string_data"):
        BuiltinObject("s", SECRET, string_data={"a": "b"})


def test_a_plan_does_not_import_the_sdk_modules_it_stands_in_for() -> None:
    """Why BuiltinObject exists: a full plan without `pulumi_kubernetes.core.v1`, its Helm
    and YAML modules, and the HTTP client those import."""
    code = (
        "import sys\n"
        "from infra.stack.files import load_project\n"
        "from infra.plan.engine import plan_stack\n"
        f"plan = plan_stack(load_project({str(ROOT)!r}), 'ukdac-prod')\n"
        "assert any(r.type == 'kubernetes:core/v1:Secret' for r in plan.resources)\n"
        "assert any(r.type == 'kubernetes:helm.sh/v3:Release' for r in plan.resources)\n"
        "assert any(r.type == 'kubernetes:yaml/v2:ConfigFile' for r in plan.resources)\n"
        # (`import pulumi_kubernetes` registers its packages lazily: their modules are not)
        "stand_ins = ('pulumi_kubernetes.core.', 'pulumi_kubernetes.helm.', "
        "'pulumi_kubernetes.yaml.', 'requests', 'urllib3')\n"
        "print(sorted(m for m in sys.modules if m.startswith(stand_ins)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
