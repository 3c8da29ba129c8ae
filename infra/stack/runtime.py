"""Reading the stack's configuration inside a running Pulumi program (real engine or mocks).

The engine hands the program a flat map of namespaced keys with structured values as JSON
text and a list of secret keys. This reads all of it, not key by key, so an unknown key in
a stack file is reported rather than silently ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path as FsPath
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra.errors import Path, StackFileError
from infra.stack.deployment import Deployment
from infra.stack.files import load_project
from infra.stack.validation import validate


def _all_config() -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret = set(runtime_config.get_config_secret_keys_env())
    secret |= {k for k in values if runtime_config.is_config_secret(k)}
    return values, secret


def _decode(value: Any) -> Any:
    """Structured values arrive as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _source(stack: str) -> str:
    try:
        project = load_project(FsPath(__file__).resolve().parents[2])
        return project.display(project.stack_path(stack))
    except StackFileError:
        return os.path.join("stacks", f"Pulumi.{stack}.yaml")


def deployment_from_runtime() -> Deployment:
    """Validate this stack's `<project>:` config and derive the deployment from it."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    values, secret_keys = _all_config()
    prefix = f"{project}:"
    raw = {k.removeprefix(prefix): _decode(v) for k, v in values.items() if k.startswith(prefix)}
    secure: set[Path] = {(k.removeprefix(prefix),) for k in secret_keys if k.startswith(prefix)}
    return validate(raw, stack, _source(stack), secure)
