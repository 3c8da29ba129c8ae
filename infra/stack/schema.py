"""The JSON Schema of a stack file, generated from the config model so it cannot drift."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from infra.stack.model import StackConfig

ALWAYS_REQUIRED = ("environment", "fqdn")


def _profile_merged_models(model: type[BaseModel], found: set[str]) -> set[str]:
    """Models reached from the top through mappings only: their keys may come from a profile."""
    for field in model.model_fields.values():
        annotation = field.annotation
        if get_origin(annotation) is list:
            continue
        for candidate in (annotation, *get_args(annotation)):
            is_model = isinstance(candidate, type) and issubclass(candidate, BaseModel)
            if is_model and candidate.__name__ not in found:
                found.add(candidate.__name__)
                _profile_merged_models(candidate, found)
    return found


def stack_file_schema(project: str = "ukdac") -> dict[str, Any]:
    """A JSON Schema (2020-12) for `stacks/Pulumi.<stack>.yaml`."""
    model = StackConfig.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = model.pop("$defs", {})
    for name in _profile_merged_models(StackConfig, set()):
        defs.get(name, {}).pop("required", None)
    properties = {f"{project}:{key}": value for key, value in model["properties"].items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lsst-uk/ukdac/stack-file.schema.json",
        "title": "ukdac stack file",
        "description": (
            "stacks/Pulumi.<stack>.yaml. Keys not set here come from the environment's "
            "profile (infra/stack/profiles.py); `ukdac config show STACK` prints the effective "
            "configuration "
            "and `ukdac config check STACK` validates it, cross-field rules included."
        ),
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": properties,
                "patternProperties": {"^pulumi:": {}},
                "required": [f"{project}:{key}" for key in ALWAYS_REQUIRED],
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "required": ["config"],
        "additionalProperties": False,
        "$defs": defs,
    }
