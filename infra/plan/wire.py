"""Property values as the monitor sends and receives them, converted without the SDK's help.

A registration's properties arrive as a protobuf `Struct`; the plan needs them twice, as
wire data (JSON-like, secrets and unknowns still marked) for the record and as the SDK would
deserialize them for the fakes; the answer goes back as a `Struct`. The SDK's converters
reach every field through protobuf's Python-level `Struct` accessors, and were a third of
the monitor's time. Each function here gives what the SDK's (or `json_format`'s) would for
the same value (tested side by side); values only the SDK understands (assets, archives,
resource references, output values) are handed to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.sync_await import _sync_await

SIG = rpc._special_sig_key
SECRET = rpc._special_secret_sig


class NotPlain(Exception):
    """A value (an asset, a resource reference) that only the SDK's converters handle."""


def _from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "list_value":
        return [_from_value(item) for item in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError(f"{number} is not a JSON number")  # as json_format refuses it
        return number
    if kind == "bool_value":
        return value.bool_value
    return None


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """`json_format.MessageToDict(struct)`: numbers as floats, nulls as None."""
    return {key: _from_value(value) for key, value in struct.fields.items()}


def _hoisted(values: dict[str, Any] | list[Any]) -> Any:
    """A list or dict with a secret inside becomes a secret of its unwrapped self (the SDK's
    rule: secrecy is kept at the level of a whole property)."""
    if isinstance(values, dict):
        if any(rpc.is_rpc_secret(item) for item in values.values()):
            return rpc.wrap_rpc_secret({k: rpc.unwrap_rpc_secret(v) for k, v in values.items()})
    elif any(rpc.is_rpc_secret(item) for item in values):
        return rpc.wrap_rpc_secret([rpc.unwrap_rpc_secret(v) for v in values])
    return values


def _deserialized(value: Any) -> Any:
    if value == rpc.UNKNOWN:
        return Unknown() if settings.is_dry_run() else None  # type: ignore[no-untyped-call]
    if isinstance(value, list):
        return _hoisted([_deserialized(item) for item in value])
    if isinstance(value, dict):
        return _hoisted(deserialized(value))
    return value


def deserialized(wire: Mapping[str, Any]) -> Any:
    """`rpc.deserialize_properties` of the Struct that `wire` came from (`from_struct`).

    Unknowns become `Unknown()` in a preview, a property that comes out as None is left out,
    and secrets are wrapped, hoisted to the property that holds them. Raises NotPlain for
    anything else the SDK would rehydrate.
    """
    if SIG in wire:
        if wire[SIG] == SECRET:
            return rpc.wrap_rpc_secret(_deserialized(wire["value"]))
        raise NotPlain
    result = {}
    for key, value in wire.items():
        item = _deserialized(value)
        if item is not None:
            result[key] = item
    return result


def _wire(value: Any, read_back: bool) -> Any:
    """`value` as a Struct holds it (unknowns marked); `read_back`: as it comes back out of
    one, numbers as floats and str subclasses (enums) as plain str."""
    if value is None or type(value) is bool:
        return value
    if isinstance(value, (str, int, float)):
        if not read_back:
            return value
        return str.__str__(value) if isinstance(value, str) else float(value)
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {key: _wire(item, read_back) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(item, read_back) for item in value]
    raise NotPlain


def answered(state: Mapping[str, Any]) -> Any:
    """What the SDK reads, in a preview, from the Struct `to_struct(state)` builds
    (`rpc.deserialize_properties`), without building it. Raises NotPlain where `to_struct`
    would need the SDK's serializer."""
    return deserialized({key: _wire(value, True) for key, value in state.items()})


def to_struct(state: Mapping[str, Any]) -> struct_pb2.Struct:
    """`state` as the SDK's `serialize_properties` would send it, without an event loop.

    The state is plain data (deserialized inputs and the fakes' outputs), so serializing it
    needs nothing asynchronous: the same Struct, minus a per-thread event loop and the SDK's
    Output machinery. Anything else goes through the SDK's serializer.
    """
    struct = struct_pb2.Struct()
    try:
        for key, value in state.items():
            if value is not None:  # a property that serializes to nothing is left out
                struct[key] = _wire(value, False)
    except NotPlain:
        serialized: struct_pb2.Struct = _sync_await(rpc.serialize_properties(dict(state), {}))
        return serialized
    return struct
