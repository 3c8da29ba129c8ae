"""The project's own stacks and config fixtures as tests use them: paths, plans, configs."""

from __future__ import annotations

import copy
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.plan.engine import plan_stack
from infra.plan.model import Plan
from infra.stack.deployment import Deployment
from infra.stack.files import load_project, load_stack_file
from infra.stack.validation import validate_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "infra" / "program"

# A complete, valid dev stack (namespace stripped), the base most config tests start from.
DEV: dict[str, Any] = {
    "environment": "dev",
    "fqdn": "rsp-dev.lsst.ac.uk",
    "cloud": {"name": "somerville-ukdac-dev"},
    "phalanx": {"environment": "ukidacdev"},
}

STACKS = sorted(
    p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
)
# Every stack is planned in each variant, so every code path runs: the default kubeadm with
# Calico, Magnum, and kubeadm with Cilium.
BACKENDS = ("kubeadm", "magnum", "kubeadm-cilium")
_VARIANT_CLUSTER: dict[str, dict[str, str]] = {
    "kubeadm": {},
    "magnum": {"backend": "magnum", "endpoint": "floating-ip"},
    "kubeadm-cilium": {"cni": "cilium"},
}
# Every variant is planned as after Vault's first day: with the AppRole vault-secrets-operator
# reads with (`secure:` values, so the plan sees placeholders), so phalanx is bootstrapped.
READ_CREDENTIALS = {
    "roleId": {"secure": "fixture-role-id"},
    "secretId": {"secure": "fixture-secret-id"},
}


def project_file(name: str = "ukdac") -> str:
    """A Pulumi.yaml running the real program."""
    return f"name: {name}\nruntime: python\nmain: {PROGRAM}/\nstackConfigDir: stacks\n"


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with dotted paths set: with_changes(DEV, **{"tls.issuer": "x"})."""
    result = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = result
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return result


def stack_document(raw: dict[str, Any], namespace: str = "ukdac") -> dict[str, Any]:
    return {"config": {f"{namespace}:{k}": v for k, v in raw.items()}}


def with_dns01_secret(document: dict[str, Any], secret: Any) -> dict[str, Any]:
    """`document` with a DNS-01 solver whose TSIG secret is `secret` (plain or `secure:`)."""
    document["config"]["ukdac:tls"] = {
        "solver": "dns01",
        "dns01": {"nameserver": "192.0.2.53:53", "tsigKeyName": "acme", "tsigSecret": secret},
    }
    return document


@cache
def _variant_root(variant: str) -> Path:
    """A copy of the stacks with the variant's cluster settings, run by the same program."""
    root = Path(tempfile.mkdtemp(prefix=f"ukdac-{variant}-"))
    (root / "Pulumi.yaml").write_text(project_file())
    (root / "stacks").mkdir()
    for stack in STACKS:
        document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        cluster = document["config"].setdefault("ukdac:cluster", {})
        cluster.update(_VARIANT_CLUSTER[variant])
        vault = document["config"].setdefault("ukdac:vault", {})
        vault["readCredentials"] = READ_CREDENTIALS
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return root


@cache
def planned(stack: str, backend: str = "kubeadm", show_secrets: bool = False) -> Plan:
    """The offline plan of one of the project's stacks, in one of the variants."""
    return plan_stack(load_project(_variant_root(backend)), stack, show_secrets=show_secrets)


@cache
def planned_as_checked_in(stack: str) -> Plan:
    """The plan of the stack file exactly as it is in the repository."""
    return plan_stack(load_project(ROOT), stack)


@cache
def config(stack: str) -> Deployment:
    """The validated deployment of one of the project's stacks."""
    return validate_stack_file(load_stack_file(load_project(ROOT), stack))
