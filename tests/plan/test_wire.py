"""The monitor's converters give what the SDK's (and json_format's) give for the same values."""

from __future__ import annotations

import enum
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.plan import engine, wire
from infra.plan.engine import plan_stack
from infra.stack.files import load_project
from tests.support.stacks import ROOT, STACKS

SECRET = {rpc._special_sig_key: rpc._special_secret_sig, "value": "s3cr3t"}

STATES: list[dict[str, Any]] = [
    {"name": "n", "count": 3, "ratio": 0.5, "on": True, "gone": None},
    {"tags": ["a", "b"], "pairs": ({"ip": "10.0.0.1"},), "nested": {"x": None, "y": [1, 2]}},
    {"id": Unknown(), "list": [Unknown(), "known"], "map": {"later": Unknown()}},
    {"userData": {rpc._special_sig_key: rpc._special_secret_sig, "value": "key: v\nother: w"}},
    {"list": ["a", SECRET, None], "map": {"plain": 1, "hidden": SECRET}},
    {"deep": {"deeper": [{"deepest": SECRET}]}, "empty": {}, "none": [None, None]},
    {"__provider": "pickled", "__internal": True, "big": "x" * 5000},
]


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 8


ANSWERS: list[dict[str, Any]] = [
    *STATES,
    {"colour": Colour.RED, "size": Size.LARGE, "flags": (True, False), "nested": [[1, "a"]]},
]


def _struct(state: dict[str, Any]) -> struct_pb2.Struct:
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    struct: struct_pb2.Struct = _sync_await(rpc.serialize_properties(state, {}))
    return struct


def _comparable(value: Any) -> Any:
    """Values that == alone would confuse made distinct: Unknown() (compares by identity) by
    a marker, numbers and str subclasses with their type (3 == 3.0, True == 1, an enum == its
    value)."""
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, (int, float)) or (isinstance(value, str) and type(value) is not str):
        return (type(value).__name__, value)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


@pytest.mark.parametrize("state", STATES)
def test_from_struct_is_message_to_dict(state: dict[str, Any]) -> None:
    struct = _struct(state)
    converted = wire.from_struct(struct)
    assert _comparable(converted) == _comparable(json_format.MessageToDict(struct))


@pytest.mark.parametrize("number", [float("inf"), float("nan")])
def test_from_struct_refuses_what_json_cannot_hold(number: float) -> None:
    struct = struct_pb2.Struct()
    struct["n"] = number
    with pytest.raises(ValueError):
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError, match="not a JSON number"):
        wire.from_struct(struct)


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("state", STATES)
def test_deserialized_is_the_sdks_deserialization(
    state: dict[str, Any], dry_run: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "is_dry_run", lambda: dry_run)
    struct = _struct(state)
    ours = wire.deserialized(wire.from_struct(struct))
    assert _comparable(ours) == _comparable(rpc.deserialize_properties(struct))


def test_secrets_are_hoisted_to_the_property_that_holds_them() -> None:
    ours = wire.deserialized(wire.from_struct(_struct(STATES[4])))
    assert ours["list"] == rpc.wrap_rpc_secret(["a", "s3cr3t", None])
    assert ours["map"] == rpc.wrap_rpc_secret({"plain": 1.0, "hidden": "s3cr3t"})


@pytest.mark.parametrize(
    "value",
    [
        pulumi.StringAsset("#!/bin/sh\n"),
        pulumi.AssetArchive({"a": pulumi.StringAsset("a")}),
    ],
)
def test_values_only_the_sdk_understands_are_left_to_it(value: Any) -> None:
    struct = _struct({"name": "n", "code": value})
    with pytest.raises(wire.NotPlain):
        wire.deserialized(wire.from_struct(struct))


@pytest.mark.parametrize("state", STATES)
def test_to_struct_is_what_the_sdk_would_send(state: dict[str, Any]) -> None:
    """The monitor answers without the SDK's async serializer: the Struct must be the same."""
    assert wire.to_struct(state) == _struct(state)


@pytest.mark.parametrize("state", ANSWERS)
def test_answered_is_what_the_sdk_reads_from_the_struct(
    state: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer handed over without a Struct: what the SDK would read back from one."""
    monkeypatch.setattr(settings, "is_dry_run", lambda: True)  # every plan is a preview
    sdks = rpc.deserialize_properties(wire.to_struct(state), True)
    assert _comparable(wire.answered(state)) == _comparable(sdks)


def test_an_answer_only_the_sdk_can_send_is_not_answered_directly() -> None:
    with pytest.raises(wire.NotPlain):
        wire.answered({"name": "n", "code": pulumi.StringAsset("#!/bin/sh\n")})


def test_state_the_fast_path_cannot_send_goes_through_the_sdk() -> None:
    asset = pulumi.StringAsset("#!/bin/sh\n")
    struct = wire.to_struct({"name": "n", "code": asset})
    assert rpc.deserialize_properties(struct)["code"].text == "#!/bin/sh\n"
    assert struct["name"] == "n"


def test_every_registration_of_every_stack_converts_as_the_sdk_converts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The converters on what the program really sends, not only on the cases above."""
    seen: list[tuple[Any, Any, Any]] = []
    original = engine.RecordingMonitor.RegisterResource

    def spy(self: engine.RecordingMonitor, request: Any) -> Any:
        converted = wire.from_struct(request.object)
        seen.append(
            (
                (_comparable(converted), _comparable(json_format.MessageToDict(request.object))),
                _comparable(wire.deserialized(converted)),
                _comparable(rpc.deserialize_properties(request.object)),
            )
        )
        return original(self, request)

    answers: list[tuple[Any, Any]] = []
    hand_over = engine.hand_over

    def answer_spy(state: Any) -> Any:
        sdks = rpc.deserialize_properties(wire.to_struct(state), True)
        answers.append((_comparable(wire.answered(state)), _comparable(sdks)))
        return hand_over(state)

    monkeypatch.setattr(engine.RecordingMonitor, "RegisterResource", spy)
    monkeypatch.setattr(engine, "hand_over", answer_spy)
    project = load_project(ROOT)
    for stack in STACKS:
        plan_stack(project, stack)
    assert len(seen) > 4 * 100
    for (converted, expected), ours, sdks in seen:
        assert converted == expected
        assert ours == sdks
    assert len(answers) > 4 * 100
    for ours, sdks in answers:
        assert ours == sdks
