"""Reading `Pulumi.yaml` and `stacks/Pulumi.<stack>.yaml` the way the Pulumi CLI does.

What the CLI hands a program is a flat map of namespaced keys (`ukdac:cluster`) to values,
structured values as JSON text, plus the list of keys that hold secrets. Offline there is no
secrets provider, so each `secure:` value becomes a marked placeholder that names its
ciphertext's digest: a changed secret still shows up as a change in a plan diff.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from infra.errors import Path, StackFileError, format_path
from infra.stack import safe_yaml

PROJECT_FILE = "Pulumi.yaml"
# Top-level keys the Pulumi CLI accepts in a stack file.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Config namespaces other than the project's that this project accepts (pulumi:tags).
OTHER_NAMESPACES = ("pulumi",)


@dataclass(frozen=True)
class Project:
    """The parts of `Pulumi.yaml` that decide how a program runs and where stacks live."""

    root: FsPath
    name: str
    main: FsPath
    stack_dir: FsPath
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def stack_path(self, stack: str) -> FsPath:
        return self.stack_dir / f"Pulumi.{stack}.yaml"

    def display(self, path: FsPath) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def stacks(self) -> list[str]:
        """Every stack that has a file in the stack directory, sorted."""
        return sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml")
            for p in self.stack_dir.glob("Pulumi.*.yaml")
        )


@dataclass(frozen=True)
class StackFile:
    """One stack file, read: the config the CLI would pass, and where secrets are."""

    project: Project
    stack: str
    path: FsPath
    config: dict[str, Any]  # namespaced key -> value (placeholders for secure values)
    secret_keys: tuple[str, ...]  # namespaced top-level keys holding a secure value
    secure_paths: frozenset[Path]  # paths under the project namespace that were secure

    @property
    def display(self) -> str:
        return self.project.display(self.path)

    def namespace(self, name: str | None = None) -> dict[str, Any]:
        """The values of one namespace (the project's by default), namespace stripped."""
        prefix = f"{name or self.project.name}:"
        return {k.removeprefix(prefix): v for k, v in self.config.items() if k.startswith(prefix)}

    def runtime_config(self) -> dict[str, str]:
        """The config map as the CLI hands it to a program: structured values as JSON."""
        return {
            key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            for key, value in self.config.items()
        }


def _read_yaml(path: FsPath, display: str) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StackFileError(f"{display}: no such file") from None
    except IsADirectoryError:
        raise StackFileError(f"{display}: a directory, not a file") from None
    except OSError as exc:
        raise StackFileError(f"{display}: cannot be read ({exc.strerror})") from None
    try:
        return safe_yaml.load(data, display)
    except safe_yaml.YamlInputError as exc:
        raise StackFileError(str(exc)) from None


def find_project_root(start: FsPath | str | None = None) -> FsPath:
    """The nearest directory at or above `start` (default: cwd) holding Pulumi.yaml."""
    here = FsPath(start or FsPath.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    raise StackFileError(f"no {PROJECT_FILE} in {here} or any parent directory")


def load_project(root: FsPath | str | None = None) -> Project:
    """Read Pulumi.yaml: project name, program directory, stack directory, config defaults."""
    found = find_project_root(root)
    data = _read_yaml(found / PROJECT_FILE, PROJECT_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise StackFileError(f"{PROJECT_FILE}: must be a mapping with a 'name'")
    name = data["name"]
    defaults: dict[str, Any] = {}
    for key, spec in (data.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and ("value" in spec or "default" in spec):
            defaults[full] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            defaults[full] = spec
    return Project(
        root=found,
        name=name,
        main=found / str(data.get("main") or "."),
        stack_dir=found / str(data.get("stackConfigDir") or "."),
        config_defaults=defaults,
    )


def _placeholder(ciphertext: str) -> str:
    digest = hashlib.sha256(ciphertext.encode()).hexdigest()[:8]
    return f"<secure:{digest}>"


class _EmptySecure(Exception):
    def __init__(self, path: Path) -> None:
        self.path = path


def _unwrap_secure(value: Any, path: Path, found: set[Path]) -> Any:
    """Replace `{secure: ...}` values by placeholders, recording their paths."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            if not value["secure"].strip():
                raise _EmptySecure(path)
            found.add(path)
            return _placeholder(value["secure"])
        return {k: _unwrap_secure(v, (*path, k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secure(v, (*path, i), found) for i, v in enumerate(value)]
    return value


# What `pulumi stack init --secrets-provider passphrase` writes: a versioned salt, then a
# versioned, encrypted check value (nonce and ciphertext), each part base64.
_SALT = re.compile(r"v1:([A-Za-z0-9+/]+={0,2}):v1:([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})")


def _salt_well_formed(salt: object) -> bool:
    match = _SALT.fullmatch(salt) if isinstance(salt, str) else None
    if match is None:
        return False
    try:
        for part in match.groups():
            base64.b64decode(part, validate=True)
    except binascii.Error:
        return False
    return True


def _check_salt(salt: object, path: FsPath, display: str) -> None:
    """A malformed salt fails only later, at decryption, with Pulumi's worse message."""
    if salt is not None and not _salt_well_formed(salt):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        line = next((i for i, text in enumerate(lines, 1) if text.startswith("encryptionsalt")), 1)
        raise StackFileError(
            f"{display}:{line}:1: encryptionsalt is not the "
            "'v1:<salt>:v1:<nonce>:<ciphertext>' (base64) that `pulumi stack init "
            "--secrets-provider passphrase` writes; restore it from "
            "version control (changing it loses every secret of the stack)"
        )


def load_stack_file(project: Project, stack: str) -> StackFile:
    """Read one stack file, with the checks the CLI makes and clearer messages than it gives."""
    path = project.stack_path(stack)
    display = project.display(path)
    if not path.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise StackFileError(
            f"{display}: no such stack file. Stacks in {project.display(project.stack_dir)}/: "
            f"{known}"
        )
    data = _read_yaml(path, display)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StackFileError(f"{display}: must be a mapping with a 'config' key")
    unknown = sorted(set(data) - set(STACK_FILE_KEYS))
    if unknown:
        raise StackFileError(
            f"{display}: unknown top-level key(s) {', '.join(unknown)}; a stack file has "
            f"{', '.join(STACK_FILE_KEYS)} (put settings under config: {project.name}:...)"
        )
    _check_salt(data.get("encryptionsalt"), path, display)
    raw_config = data.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{display}: 'config' must be a mapping of '<namespace>:<key>' keys")

    bare = sorted(k for k in raw_config if ":" not in str(k))
    if bare:
        raise StackFileError(
            f"{display}: config key(s) {', '.join(map(str, bare))} have no namespace; "
            f"write them as {project.name}:<key>"
        )
    namespaces = {str(k).split(":", 1)[0] for k in raw_config}
    foreign = sorted(namespaces - {project.name, *OTHER_NAMESPACES})
    if foreign and project.name not in namespaces:
        raise StackFileError(
            f"{display}: this looks like a stack file of project '{foreign[0]}' (its keys are "
            f"'{foreign[0]}:...'), not of project '{project.name}', whose keys are "
            f"'{project.name}:...'"
        )
    if foreign:
        raise StackFileError(
            f"{display}: config namespace(s) {', '.join(foreign)} are not used by this project; "
            f"allowed: {', '.join((project.name, *OTHER_NAMESPACES))}"
        )

    config = dict(project.config_defaults)
    secret_keys: list[str] = []
    secure_paths: set[Path] = set()
    prefix = f"{project.name}:"
    for key, value in raw_config.items():
        found: set[Path] = set()
        inner = key.removeprefix(prefix)
        try:
            config[key] = _unwrap_secure(value, (inner,), found)
        except _EmptySecure as empty:
            where = format_path(empty.path, project.name)
            raise StackFileError(
                f"{display}: {where}: an empty `secure:` value; set the secret with "
                f"`pulumi config set --secret --path '{where}' ...`"
            ) from None
        if found:
            secret_keys.append(key)
            if key.startswith(prefix):
                secure_paths |= found
    return StackFile(
        project=project,
        stack=stack,
        path=path,
        config=config,
        secret_keys=tuple(sorted(secret_keys)),
        secure_paths=frozenset(secure_paths),
    )
