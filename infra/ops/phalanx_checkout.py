"""A phalanx fork on disk, and merging ukdac's keys into its values files.

ukdac owns a few keys per file (`infra.stack.phalanx`); everything else in the fork belongs
to its maintainers. So files are edited, not written: a round-trip YAML load keeps comments,
key order and quoting, only the keys ukdac owns are set (and only where their value
differs), and the result is shown as a diff. The keys that name a live environment (its
hostname, Vault, app of apps) are never changed as a side effect: that takes
`allow_identity_change`.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from infra.errors import UkdacError
from infra.stack.deployment import Deployment
from infra.stack.phalanx import (
    ENVIRONMENT_DOCS,
    ENVIRONMENT_IDENTITY,
    application_file,
    application_values,
    environment_file,
    environment_page,
    environment_values,
    provided_secrets,
    tap_secrets_file,
)


class PhalanxCheckoutError(UkdacError):
    """The fork cannot take this stack's values as they are."""

    exit_code = 2


@dataclass(frozen=True)
class FileChange:
    """One values file of the fork, before (None: new) and after ukdac's keys."""

    path: str
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        before = [] if self.before is None else self.before.splitlines(keepends=True)
        lines = difflib.unified_diff(
            before,
            self.after.splitlines(keepends=True),
            fromfile="/dev/null" if self.before is None else f"a/{self.path}",
            tofile=f"b/{self.path}",
        )
        return "".join(lines)


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap a maintainer's long lines
    rt.indent(mapping=2, sequence=4, offset=2)  # phalanx's style
    return rt


def _plain(value: Any) -> Any:
    """A round-trip node as plain Python, to compare with ukdac's values."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def _set_owned(node: CommentedMap, owned: Mapping[str, Any]) -> None:
    """Set ukdac's keys in `node`, descending into maps; equal values are left untouched.

    A None value means the key must not be set: ukdac removes it if present.
    """
    for key, value in owned.items():
        current = node.get(key)
        if value is None:
            node.pop(key, None)
        elif isinstance(value, Mapping) and value and isinstance(current, CommentedMap):
            _set_owned(current, value)
        elif key not in node or _plain(current) != _without_none(value):
            node[key] = _without_none(value)


def merge(before: str | None, owned: Mapping[str, Any], header: str) -> str:
    """`before` (None for a new file) with `owned` merged in, comments and order kept."""
    rt = _yaml()
    loaded = rt.load(before) if before else None
    if loaded is None:
        loaded = CommentedMap()
        if before is None:
            loaded.yaml_set_start_comment(header)
    if not isinstance(loaded, CommentedMap):
        raise PhalanxCheckoutError("expected a YAML mapping at the top of the values file")
    _set_owned(loaded, owned)
    stream = io.StringIO()
    rt.dump(loaded, stream)
    return stream.getvalue()


class PhalanxCheckout:
    """A phalanx repository (the DAC's fork) checked out at `root`."""

    def __init__(self, root: Path) -> None:
        if (
            not (root / "environments" / "values.yaml").is_file()
            or not (root / "applications").is_dir()
        ):
            raise PhalanxCheckoutError(
                f"{root} is not a phalanx checkout: it needs environments/values.yaml and "
                "applications/ (pass the root of the fork with --phalanx-dir)"
            )
        self.root = root

    def read(self, path: str) -> str | None:
        target = self.root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def has_application(self, name: str) -> bool:
        return (self.root / "applications" / name / "Chart.yaml").is_file()

    def default_applications(self) -> dict[str, bool]:
        defaults = yaml.safe_load(self.read("environments/values.yaml") or "") or {}
        return {str(k): bool(v) for k, v in (defaults.get("applications") or {}).items()}

    def write(self, change: FileChange) -> None:
        target = self.root / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(change.after, encoding="utf-8")


def _identity_changes(before: str | None, owned: Mapping[str, Any]) -> list[str]:
    existing = yaml.safe_load(before or "") or {}
    return [
        f"{key}: {existing[key]!r} in the fork, {owned[key]!r} from the stack"
        for key in ENVIRONMENT_IDENTITY
        if key in existing and existing[key] != owned[key]
    ]


# What an environment is, in the sentence its documentation page opens with.
_KINDS = {
    "sandbox": "a developer sandbox",
    "dev": "the development environment",
    "test": "the test environment",
    "prod": "the production environment",
}


def environment_page_text(d: Deployment) -> str:
    """phalanx's page for a new environment: the `px-env` directive, a title, one sentence,
    and the summary table phalanx renders from the environment's own values."""
    env = d.config.phalanx.environment
    title = f"{env} — {d.config.fqdn} (LSST:UK Data Access Centre)"
    bar = "#" * len(title)
    return (
        f".. px-env:: {env}\n\n{bar}\n{title}\n{bar}\n\n"
        f"``{env}`` is {_KINDS[d.config.environment]} of the LSST:UK Data Access Centre, a "
        "deployment of the Rubin Science Platform on the Somerville OpenStack cloud at the "
        f"University of Edinburgh. ukdac writes its values from ``stacks/Pulumi.{d.stack}.yaml``."
        f"\n\n.. jinja:: {env}\n   :file: environments/_summary.rst.jinja\n"
    )


def with_toctree_entry(index: str, env: str) -> str:
    """phalanx's environments index with `<env>/index` in its toctree, in name order among
    the entries; unchanged when the entry is there."""
    entry = f"   {env}/index"
    lines = index.splitlines()
    if entry in lines:
        return index
    entries = [i for i, line in enumerate(lines) if re.fullmatch(r"   [^/\s]+/index", line)]
    if not entries:
        raise PhalanxCheckoutError(
            f"{ENVIRONMENT_DOCS} has no toctree of environment pages to add {env} to"
        )
    after = [i for i in entries if lines[i].strip() < entry.strip()]
    position = (after[-1] + 1) if after else entries[0]
    lines.insert(position, entry)
    return "\n".join(lines) + ("\n" if index.endswith("\n") else "")


def _documentation(checkout: PhalanxCheckout, d: Deployment) -> list[FileChange]:
    """A new environment's page and its toctree line, as phalanx's docs tests require; an
    existing page is the fork's and is left alone."""
    index = checkout.read(ENVIRONMENT_DOCS)
    if index is None:  # a fork without phalanx's documentation: nothing to keep in step
        return []
    env = d.config.phalanx.environment
    page = environment_page(env)
    changes = []
    if checkout.read(page) is None:
        changes.append(FileChange(page, None, environment_page_text(d)))
    updated = with_toctree_entry(index, env)
    if updated != index:
        changes.append(FileChange(ENVIRONMENT_DOCS, index, updated))
    return changes


def changes_for(
    checkout: PhalanxCheckout, d: Deployment, *, allow_identity_change: bool = False
) -> list[FileChange]:
    """Every values file this stack touches in the fork, with its new text."""
    env = d.config.phalanx.environment
    header = (
        f"Written by ukdac from stacks/Pulumi.{d.stack}.yaml: ukdac sets the keys it owns "
        "and keeps everything else."
    )
    env_path = environment_file(env)
    env_before = checkout.read(env_path)
    owned_env = environment_values(d)
    identity = _identity_changes(env_before, owned_env)
    if identity and not allow_identity_change:
        raise PhalanxCheckoutError(
            f"{env_path} describes a live environment, and the stack would change what "
            "names it:\n  - " + "\n  - ".join(identity) + "\nMake the stack file agree "
            "with the fork, or pass --allow-identity-change if this change is deliberate "
            "and reviewed."
        )
    changes = [FileChange(env_path, env_before, merge(env_before, owned_env, header))]

    enabled = checkout.default_applications()
    enabled.update(yaml.safe_load(changes[0].after).get("applications") or {})
    owned_apps = application_values(d)
    for app in sorted(name for name, on in enabled.items() if on):
        if not checkout.has_application(app):
            continue
        path = application_file(app, env)
        before = checkout.read(path)
        if before is None and app == "gafaelfawr" and d.config.phalanx.identity is None:
            raise PhalanxCheckoutError(
                f"{path} does not exist yet, and Gafaelfawr needs an identity provider: "
                f"set ukdac:phalanx.identity in stacks/Pulumi.{d.stack}.yaml (a GitHub "
                "OAuth app's client ID and the teams that get each scope, or CILogon)"
            )
        if app in owned_apps or before is None:
            changes.append(FileChange(path, before, merge(before, owned_apps.get(app, {}), header)))
    changes += _documentation(checkout, d)
    if enabled.get("tap") and provided_secrets(d):
        path = application_file("tap", env, "secrets")
        before = checkout.read(path)
        changes.append(FileChange(path, before, merge(before, tap_secrets_file(), header)))
    return changes
