"""The offline plan: every resource a stack would register, as data that diffs and renders.

Secrets never appear in a plan unless asked for: a secret value is written as
`[secret:<digest>]`, where the digest is of the (offline, fake) value, so a plan diff still
notices that a secret changed without saying what it is.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SECRET_PREFIX = "[secret"  # noqa: S105 (a marker, not a password)
UNKNOWN = "[unknown]"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, extra="forbid", frozen=True
    )


class PlannedResource(_Model):
    """One registered resource, with everything the engine was told about it."""

    urn: str
    type: str
    name: str
    parent: str | None = None
    custom: bool
    provider: str | None = Field(default=None, description="URN of the explicit provider.")
    dependencies: list[str] = Field(default_factory=list)
    property_dependencies: dict[str, list[str]] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, Any] = Field(default_factory=dict)
    secret_text: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Masked secret inputs that are text, by input path: their lines with "
        "secret material masked (infra/plan/redact.py), so diffs can show what changed.",
    )


class PlannedInvoke(_Model):
    """One data-source call the program made."""

    token: str
    args: dict[str, Any]
    provider: str | None = None


class ConfigEntry(_Model):
    """One effective config value of the stack and where it was set."""

    value: Any
    source: str = Field(description="`stack file` or `<environment> profile`.")


class Plan(_Model):
    """What one stack would register, in URN order."""

    format: Literal[1] = 1
    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any] = Field(default_factory=dict)
    invokes: list[PlannedInvoke] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    config: dict[str, ConfigEntry] = Field(
        default_factory=dict, description="The effective config, `ukdac:key.path` -> value."
    )

    @property
    def stack_urn(self) -> str:
        stack_type = "pulumi:pulumi:Stack"
        return f"urn:pulumi:{self.stack}::{self.project}::{stack_type}::{self.project}-{self.stack}"

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def children(self) -> dict[str | None, list[PlannedResource]]:
        """Resources grouped by parent URN (top-level resources under the stack's URN)."""
        tree: dict[str | None, list[PlannedResource]] = {}
        for resource in self.resources:
            tree.setdefault(resource.parent, []).append(resource)
        return tree

    def find(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def counts_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(r.type for r in self.resources).items()))

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Plan:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def join_path(path: str, key: str | int) -> str:
    """A value's path one level down: `a.b` for a key, `a[0]` for an index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def is_secret(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_PREFIX)
