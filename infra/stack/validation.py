"""A stack's raw `ukdac:` values checked against the model, the profile and the rules.

Each section is validated on its own, so one bad section does not hide another's problems;
every problem is reported at once with its key path, and whether the bad value came from
the stack file or from the environment profile. Secrets are never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, get_args

from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from infra.errors import ConfigError, Path, Problem, format_path
from infra.stack import rules
from infra.stack.deployment import Deployment, derive
from infra.stack.model import ENVIRONMENTS, PATTERN_HELP, RETIRED_KEYS, StackConfig
from infra.stack.profiles import deep_merge, defaults_for

if TYPE_CHECKING:
    from infra.stack.files import StackFile

STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


@cache
def _section_adapter(name: str) -> TypeAdapter[Any]:
    field = StackConfig.model_fields[name]
    annotation: Any = field.annotation
    if not field.metadata:
        return TypeAdapter(annotation)
    return TypeAdapter(Annotated[(annotation, *field.metadata)])


def _aliases(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(f.alias or n): f for n, f in model.model_fields.items()}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside `annotation` (through Optional, list, dict), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _lookup(loc: Path) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the last key of `loc`, and that key's field (if it exists)."""
    model: type[BaseModel] | None = StackConfig
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        parent = model
        field = _aliases(parent).get(part)
        if field is None:
            return parent, None
        model = _model_in(field.annotation)
    return (parent if loc else None), field


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(a) for a in get_args(annotation))


def _message(error: Mapping[str, Any], loc: Path) -> str:
    kind = error["type"]
    parent, field = _lookup(loc)
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        if loc in RETIRED_KEYS:
            return f"no longer a setting: {RETIRED_KEYS[loc]}"
        allowed = ", ".join(_aliases(parent)) if parent else ""
        return f"unknown key; allowed keys here: {allowed}"
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if pattern in PATTERN_HELP:
            return PATTERN_HELP[pattern]
        if field is not None and field.description:
            return f"not of the expected form: {field.description}"
    return msg


def _problem(error: Mapping[str, Any], loc: Path) -> Problem:
    """The problem with its bad value, except under an unknown key (it may be a secret)."""
    if error["type"] == "extra_forbidden":
        return Problem(loc, _message(error, loc))
    return Problem(loc, _message(error, loc), error.get("input"))


def _from_file(path: Path, file_paths: set[Path]) -> bool:
    return any(path[:n] in file_paths for n in range(1, len(path) + 1))


def leaf_paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Paths of every leaf (lists count as leaves: a stack file's list replaces the profile's)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaf_paths(item, (*prefix, key))
    else:
        yield prefix


def _secret_field_paths(value: Any, prefix: Path) -> Iterator[Path]:
    """Paths of the Secret fields that are set in a validated (sub)model."""
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            item = getattr(value, name)
            path = (*prefix, field.alias or name)
            if _is_secret(field.annotation) and item is not None:
                yield path
            else:
                yield from _secret_field_paths(item, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _secret_field_paths(item, (*prefix, index))


def _section_problems(merged: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Validate each section on its own, so one bad section does not hide another's rules."""
    problems: list[Problem] = []
    fields = _aliases(StackConfig)
    for key in merged:
        if key not in fields:
            allowed = ", ".join(fields)
            # The value is not shown: under a misspelt key it may well be a secret.
            problems.append(Problem((key,), f"unknown key; allowed keys: {allowed}"))
    sections: dict[str, Any] = {}
    for name, field in StackConfig.model_fields.items():
        alias = field.alias or name
        if alias not in merged:
            if field.is_required():
                problems.append(Problem((alias,), "required key is missing"))
            continue
        try:
            sections[name] = _section_adapter(name).validate_python(merged[alias])
        except ValidationError as exc:
            for error in exc.errors():
                loc = (alias, *error["loc"])
                if error["type"] == "missing":
                    problems.append(Problem(loc, _message(error, loc)))
                else:
                    problems.append(_problem(error, loc))
    return sections, problems


def _insecure_secrets(sections: Mapping[str, Any], secure: set[Path]) -> Iterator[Problem]:
    for name, value in sections.items():
        alias = StackConfig.model_fields[name].alias or name
        for path in _secret_field_paths(value, (alias,)):
            if not _from_file(path, secure):
                yield Problem(
                    path,
                    "a secret must be a `secure:` value: set it with "
                    f"`pulumi config set --secret --path '{format_path(path)}' ...`",
                )


def validate(
    raw: Mapping[str, Any],
    stack: str,
    source: str,
    secure_paths: set[Path] | None = None,
) -> Deployment:
    """Validate a stack's `ukdac:` values (namespace stripped) and derive the rest.

    `secure_paths` lists the paths that came from `secure:` values; every Secret field must
    lie under one. Raises ConfigError with every problem found.
    """
    if not STACK_NAME.fullmatch(stack):
        raise ConfigError(
            source,
            [Problem((), f"stack name '{stack}' must be 3-40 lower-case letters, digits and '-'")],
        )
    environment = raw.get("environment")
    if environment not in ENVIRONMENTS:
        message = f"must be one of: {', '.join(ENVIRONMENTS)}"
        bad = (
            Problem(("environment",), "required key is missing; " + message)
            if environment is None
            else Problem(("environment",), message, environment)
        )
        raise ConfigError(source, [bad])
    merged = deep_merge(defaults_for(environment), dict(raw))
    sections, problems = _section_problems(merged)
    view = rules.Sections(
        environment=environment,
        cloud=sections.get("cloud"),
        network=sections.get("network"),
        cluster=sections.get("cluster"),
        tls=sections.get("tls"),
        vault=sections.get("vault"),
        phalanx=sections.get("phalanx"),
        qserv=sections.get("qserv"),
        buckets=sections.get("buckets"),
        backups=sections.get("backups"),
        sandbox=sections.get("sandbox"),
        sandbox_set="sandbox" in merged,
    )
    problems += rules.check(view)
    problems += _insecure_secrets(sections, secure_paths or set())
    if problems:
        file_paths = set(leaf_paths(dict(raw)))
        raise ConfigError(source, [_attribute(p, file_paths, environment) for p in problems])
    # Every section is validated above and StackConfig has no model-level validator (a test
    # holds that), so the sections make the model without validating all of it again.
    return derive(stack, StackConfig.model_construct(**sections))


def validate_stack_file(stack_file: StackFile) -> Deployment:
    """Validate what a stack file says (its `secure:` values count as secrets)."""
    return validate(
        stack_file.namespace(), stack_file.stack, stack_file.display, set(stack_file.secure_paths)
    )


def _attribute(problem: Problem, file_paths: set[Path], environment: str) -> Problem:
    """Say when a bad value came from the profile, and never show a secret's value."""
    if not problem.has_value:
        return problem
    if _is_secret(getattr(_lookup(problem.path)[1], "annotation", None)):
        problem = replace(problem, value="[secret]")
    if not _from_file(problem.path, file_paths):
        problem = replace(problem, from_profile=environment)
    return problem


def effective_config(stack_file: StackFile) -> dict[str, tuple[Any, str]]:
    """Every leaf of a stack's effective config: `ukdac:key.path` -> (value, where it is set).

    Where is `stack file` or `<environment> profile`; secret values read `[secret]`.
    """
    raw = stack_file.namespace()
    environment = raw.get("environment")
    merged = deep_merge(defaults_for(environment), raw) if environment in ENVIRONMENTS else raw
    from_file = set(leaf_paths(raw))
    secure = set(stack_file.secure_paths)
    namespace = stack_file.project.name
    found: dict[str, tuple[Any, str]] = {}
    for path in leaf_paths(merged):
        value: Any = merged
        for part in path:
            value = value[part]
        if _from_file(path, secure):
            value = "[secret]"
        origin = "stack file" if path in from_file else f"{environment} profile"
        found[format_path(path, namespace)] = (value, origin)
    return found
