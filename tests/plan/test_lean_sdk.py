"""Each stand-in for an SDK function answers as the SDK's own does, and a plan puts them back."""

from __future__ import annotations

import enum
import gc
from typing import Any

import pulumi
import pulumi_openstack as openstack
import pytest
from google.protobuf import struct_pb2
from pulumi import _types
from pulumi._utils import ContextProperty
from pulumi.output import Output, Unknown, _OutputData
from pulumi.runtime import rpc, settings
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.plan import lean_sdk, wire
from infra.plan.engine import run_callable


def _cyclic() -> list[object]:
    loop: list[object] = ["a"]
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    "value",
    [
        "text",
        None,
        3,
        b"bytes",
        Unknown(),
        {"a": [1, {"b": Unknown()}]},
        {"a": [1, {"b": 2}], "c": None},
        [[[Unknown()]]],
        (Unknown(),),  # the SDK does not look inside tuples
        {"deep": {"deeper": {"deepest": [Unknown(), 1]}}},
        _cyclic(),
    ],
)
def test_contains_unknowns_answers_as_the_sdk_does(value: object) -> None:
    assert rpc.contains_unknowns.__module__ == "pulumi.runtime.rpc"  # the SDK's own
    assert lean_sdk.contains_unknowns(value) is rpc.contains_unknowns(value)


def _data(output: Output[Any]) -> tuple[Any, bool, bool, set[Any]]:
    data = _sync_await(output._data)
    return data.value, data.is_known, data.is_secret, data.resources


class _Resource:
    """Stands for a resource: `transfer_properties` only sets attributes on it."""


RESOLUTIONS: list[tuple[Any, bool, bool, set[Any] | None]] = [
    ("value", True, False, None),
    ({"nested": ["a", 1]}, True, True, set()),
    (None, False, False, None),  # unknown in a preview
    ({"later": Unknown()}, True, False, None),  # known, but holding an unknown
    ("s3cr3t", True, True, {"dependency"}),
]


def _outputs(transfer: Any) -> dict[str, Any]:
    """Outputs of a resource whose properties are resolved as RESOLUTIONS say, via `transfer`."""
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    resource = _Resource()
    names = [f"p{index}" for index in range(len(RESOLUTIONS))]
    resolvers = transfer(resource, dict.fromkeys([*names, "urn", "id"]), True)
    assert sorted(resolvers) == names  # urn and id are the SDK's to resolve
    for name, (value, known, secret, deps) in zip(names, RESOLUTIONS, strict=True):
        resolvers[name](value, known, secret, deps, None)
    resolved = {}
    for name in names:
        *state, resources = _data(resource.__dict__[name])
        resolved[name] = (*state, {r if r is not resource else "self" for r in resources})
    return resolved


def test_transfer_properties_resolves_outputs_as_the_sdk_does() -> None:
    lean = _outputs(lean_sdk.transfer_properties)
    assert lean == _outputs(rpc.transfer_properties)
    assert lean["p3"][1] is False  # the SDK's own rule: an unknown inside is not known
    assert lean["p4"][3] == {"self", "dependency"}


def test_transfer_properties_tracks_outputs_until_resolved_and_keeps_failures() -> None:
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    SETTINGS.outputs.clear()
    resource = _Resource()
    resolvers = lean_sdk.transfer_properties(resource, {"ok": None, "bad": None}, True)
    ok, bad = resource.__dict__["ok"]._data, resource.__dict__["bad"]._data
    assert {ok, bad} <= SETTINGS.outputs  # the program's end waits for both
    resolvers["ok"]("v", True, False, None, None)
    resolvers["bad"](None, False, False, None, RuntimeError("registration failed"))
    assert ok not in SETTINGS.outputs
    assert bad in SETTINGS.outputs  # left for the program's end, which raises it
    with pytest.raises(RuntimeError, match="registration failed"):
        _sync_await(bad)
    SETTINGS.outputs.clear()


def _recorders(names: list[str], told: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Resolvers, by name, that record what each is told."""

    def recorder(name: str) -> Any:
        return lambda *args: told.append((name, *args))

    return {name: recorder(name) for name in names}


def _resolutions(
    resolve: Any, dry_run: bool, missing_as_unknown: bool, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Any, ...]]:
    """What each resolver is told, for a state with plain, secret, absent and extra values."""
    monkeypatch.setattr(settings, "is_dry_run", lambda: dry_run)
    told: list[tuple[Any, ...]] = []
    resolvers = _recorders(["plain", "secret", "none", "absent", "id", "urn"], told)
    state = {
        "plain": "v",
        "secret": rpc.wrap_rpc_secret(["a"]),
        "none": None,
        "id": "i-1",
        "urn": "u",
        "extra": "only register_outputs set this",
    }
    deps = {"plain": {"dep"}, "absent": {"other"}}
    resolve(resolvers, state, deps, True, missing_as_unknown)
    return told


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("missing_as_unknown", [True, False])
def test_resolvers_are_told_what_the_sdk_tells_them(
    dry_run: bool, missing_as_unknown: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = _resolutions(lean_sdk.resolve_properties, dry_run, missing_as_unknown, monkeypatch)
    sdks = _resolutions(rpc.resolve_properties, dry_run, missing_as_unknown, monkeypatch)
    assert ours == sdks
    assert {call[0] for call in ours} == {"plain", "secret", "none", "absent"}


def _shape(value: Any) -> Any:
    """A resolved value with what == alone would hide made visible: Unknown() (compares by
    identity), number types (3 == 3.0) and output types (instances, compared by content)."""
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, (int, float)):
        return (type(value).__name__, value)
    if _types.is_output_type(type(value)):
        return (type(value).__name__, _shape(vars(value)))
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shape(item) for item in value]
    return value


ANSWER: dict[str, Any] = {
    "name": "node-1",
    "flavorName": "m1.large",
    "networks": [{"port": "port-1", "fixedIpV4": "10.0.0.5", "accessNetwork": False}],
    "accessIpV4": Unknown(),
    "userData": rpc.wrap_rpc_secret("#cloud-config"),
    "metadata": {"group": "workers", "count": 3},
    "stopBeforeDestroy": None,
    "id": "server-1",
}


def _resolver_names(by_type: bool) -> list[str]:
    """The outputs a server's resolvers stand for (the answer's, and one it leaves out)."""
    names = _types.resource_pulumi_to_py_names(openstack.compute.Instance)
    return [names.get(key, key) if by_type else key for key in [*ANSWER, "absent"]]


def _told_by(
    resolve_outputs: Any,
    outputs: Any,
    by_type: bool,
    dry_run: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, Any]]:
    """What each output of a server is resolved with, from `outputs` through `resolve_outputs`."""
    monkeypatch.setattr(settings, "is_dry_run", lambda: dry_run)
    server = object.__new__(openstack.compute.Instance)
    server._name = "node-1"
    told: list[tuple[Any, ...]] = []
    resolvers = _recorders(_resolver_names(by_type), told)
    deps = {"name": {"dependency"}}
    resolve_outputs(server, struct_pb2.Struct(), outputs, deps, resolvers, True, by_type, True)
    return [(name, _shape(list(args))) for name, *args in told]


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize("by_type", [True, False])
def test_outputs_resolve_from_a_handed_answer_as_from_the_struct(
    by_type: bool, dry_run: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The monitor hands its answer over without a Struct: each output is told the same."""
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    stand_in = lean_sdk._answer_first(rpc.resolve_outputs)
    monkeypatch.setattr(settings, "is_dry_run", lambda: dry_run)
    handed = lean_sdk.hand_over(ANSWER)
    if dry_run:
        assert len(handed.fields) == 1  # a token, not the answer
    else:
        assert handed == wire.to_struct(ANSWER)  # outside a preview the SDK merges inputs in
    ours = _told_by(stand_in, handed, by_type, dry_run, monkeypatch)
    sdks = _told_by(rpc.resolve_outputs, wire.to_struct(ANSWER), by_type, dry_run, monkeypatch)
    # The same resolutions; their order is the SDK's walk of a protobuf map, not a contract.
    assert sorted(ours, key=repr) == sorted(sdks, key=repr)
    expected = set(_resolver_names(by_type)) - {"id"}  # a custom resource's id is the SDK's own
    assert len(ours) == len(expected) and set(dict(ours)) == expected  # each told once
    assert not lean_sdk._handed  # taken
    if by_type and dry_run:
        told = dict(ours)
        assert told["networks"][0][0][0] == "InstanceNetwork"  # an output type, translated
        assert told["access_ip_v4"][0] == "<unknown>"
        assert told["user_data"][:3] == ["#cloud-config", ("bool", True), ("bool", True)]


def test_legacy_apply_gets_the_whole_struct(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under legacy apply the SDK merges the inputs into a preview's outputs too."""
    monkeypatch.setattr(settings, "is_dry_run", lambda: True)
    assert len(lean_sdk.hand_over(ANSWER).fields) == 1
    monkeypatch.setattr(settings, "is_legacy_apply_enabled", lambda: True)
    assert lean_sdk.hand_over(ANSWER) == wire.to_struct(ANSWER)
    lean_sdk._handed.clear()


def test_a_struct_not_handed_over_goes_to_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    seen: list[Any] = []
    stand_in = lean_sdk._answer_first(lambda *args: seen.append(args[2]))
    struct = wire.to_struct(ANSWER)
    stand_in(object(), struct_pb2.Struct(), struct, {}, {}, True)
    assert seen == [struct]
    token = struct_pb2.Struct()
    token[lean_sdk._ANSWER_KEY] = "not handed"
    stand_in(object(), struct_pb2.Struct(), token, {}, {}, True)
    assert seen == [struct, token]


def _graph() -> dict[str, Any]:
    """Resources as `_add_dependency` sees them: custom ones with URNs, a component holding
    a custom resource, a component (with two more) and a remote component; `me` depends on
    the whole of `top`, and `loop` already depends on `me`."""
    _ensure_event_loop()  # type: ignore[no-untyped-call]

    def made(cls: type, name: str, children: tuple[Any, ...] = (), remote: bool = False) -> Any:
        resource = object.__new__(cls)
        resource.__dict__.update(
            urn=lean_sdk._known(f"urn:{name}"),
            _childResources=set(children),
            _remote=remote,
            _name=name,
            _type="test:index:Thing",
        )
        return resource

    custom, component = pulumi.CustomResource, pulumi.ComponentResource
    leaves = {name: made(custom, name) for name in ("a", "b", "c", "me", "loop")}
    inner = made(component, "inner", (leaves["b"], leaves["c"]))
    remote = made(component, "remote", (made(custom, "hidden"),), remote=True)
    top = made(component, "top", (leaves["a"], inner, remote))
    leaves["loop"]._direct_computed_dependencies = {leaves["me"]}
    return {**leaves, "inner": inner, "remote": remote, "top": top}


def _added(add: Any, target: str) -> tuple[Any, ...]:
    """What `add` records for `me` depending on `target`: URNs, recorded edges, or the error."""
    graph = _graph()
    me = graph["me"]
    deps: dict[str, Any] = {}
    try:
        _sync_await(add(deps, graph.get(target, target), me))
    except (RuntimeError, TypeError) as error:
        return (type(error).__name__, str(error))
    edges = sorted(r._name for r in getattr(me, "_direct_computed_dependencies", set()))
    return sorted(deps), sorted(r._name for r in deps.values()), edges


@pytest.mark.parametrize("skip_cycles", [True, False])
@pytest.mark.parametrize("target", ["a", "top", "inner", "remote", "loop", "not a resource"])
def test_dependencies_are_added_as_the_sdk_adds_them(
    target: str, skip_cycles: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if skip_cycles:
        monkeypatch.setenv(rpc.ERROR_ON_DEPENDENCY_CYCLES_VAR, "false")
    ours = _added(lean_sdk._cycle_checked(rpc._add_dependency), target)
    assert ours == _added(rpc._add_dependency, target)
    if target == "top":
        assert ours[0] == ["urn:a", "urn:b", "urn:c", "urn:remote"]
    if target == "loop" and not skip_cycles:
        assert ours[0] == "RuntimeError"


def _declared_types() -> list[type]:
    """Every declared input and output type of a server and a port, as the SDK reads them."""
    found: list[type] = []
    for cls in (openstack.compute.Instance, openstack.networking.Port):
        found.extend(_types.resource_types(cls).values())
    for args in (openstack.compute.InstanceNetworkArgs, openstack.networking.PortFixedIpArgs):
        found.extend(_types.input_type_types(args).values())
    return found


@pytest.mark.parametrize("unwrap", [_types.unwrap_type, _types.unwrap_optional_type])
def test_unwrapping_is_computed_once_per_type_with_the_sdks_answer(unwrap: Any) -> None:
    calls: list[type] = []

    def counted(val: type) -> type:
        calls.append(val)
        answer: type = unwrap(val)
        return answer

    cached = lean_sdk._by_identity(counted)
    declared = _declared_types()
    assert len(declared) > 40
    for _ in range(2):
        for typ in declared:
            assert cached(typ) == unwrap(typ)
    assert len(calls) == len({id(typ) for typ in declared})


class Colour(enum.StrEnum):
    RED = "red"


def _serialized(serialize: Any, value: Any, **options: Any) -> tuple[Any, list[Any]]:
    deps: list[Any] = []
    result = _sync_await(serialize(value, deps, "key", **options))
    return result, deps


@pytest.mark.parametrize(
    "value",
    [
        "text",
        "",
        0,
        -1.5,
        True,
        None,
        Colour.RED,  # a str subclass: the SDK's path, not the plain one
        ["a", 1, None],
        {"a": {"b": [True, 2.0]}},
        ("tuple", 1),
    ],
)
def test_serialize_property_answers_as_the_sdk_does(value: Any) -> None:
    _ensure_event_loop()  # type: ignore[no-untyped-call]
    lean = lean_sdk._plain_first(rpc.serialize_property)
    assert _serialized(lean, value) == _serialized(rpc.serialize_property, value)
    as_protobuf = _serialized(lean, value, return_protobuf_value=True)
    assert as_protobuf == _serialized(rpc.serialize_property, value, return_protobuf_value=True)


def test_serialize_property_hands_outputs_to_the_sdk() -> None:
    loop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    lean = lean_sdk._plain_first(rpc.serialize_property)
    data = loop.create_future()
    data.set_result(
        _OutputData(resources={"dependency"}, value="v", is_known=True, is_secret=False)
    )
    output: Output[str] = Output._from_data(data)
    assert _serialized(lean, output) == _serialized(rpc.serialize_property, output)
    assert _serialized(lean, output) == ("v", ["dependency"])


@pytest.mark.parametrize(
    ("name", "parent", "plain"),
    [
        ("net", None, True),
        ("net", "urn:pulumi:dev::ukdac::ukdac:openstack:Network::cluster", True),
        ("net", "urn:pulumi:dev::ukdac::a$b::child", True),
        ("net", "no-separator", True),
        ("net", Output.from_input("urn:pulumi:dev::ukdac::t::p"), False),  # to the SDK
        (Output.from_input("net"), None, False),
    ],
)
def test_urns_are_the_sdks(name: Any, parent: Any, plain: bool) -> None:
    from pulumi.runtime import resource as runtime_resource

    _ensure_event_loop()  # type: ignore[no-untyped-call]
    calls: list[object] = []

    def sdk(*args: Any) -> Output[str]:
        calls.append(args)
        return runtime_resource.create_urn(*args)

    lean = lean_sdk._urn_first(sdk)
    args = (name, "openstack:networking/network:Network", parent, "ukdac", "dev")
    assert _data(lean(*args)) == _data(runtime_resource.create_urn(*args))
    assert bool(calls) is not plain


class _Holder:
    plain = ContextProperty(name="ukdac-test-plain", default="default")
    mapping = ContextProperty(name="ukdac-test-mapping", default=None)


def test_settings_are_read_as_the_sdk_reads_them() -> None:
    holder = _Holder()
    sdk = ContextProperty.__get__
    for name in ("plain", "mapping"):
        descriptor = _Holder.__dict__[name]
        assert lean_sdk._context_property_get(descriptor, None, _Holder) is descriptor
        assert lean_sdk._context_property_get(descriptor, holder, _Holder) == sdk(
            descriptor, holder, _Holder
        )
    holder.mapping = {"a": 1}  # a dict-valued property answers with itself, as the SDK's
    descriptor = _Holder.__dict__["mapping"]
    assert lean_sdk._context_property_get(descriptor, holder, _Holder) is descriptor
    assert sdk(descriptor, holder, _Holder) is descriptor
    holder.plain = "set"
    assert lean_sdk._context_property_get(_Holder.__dict__["plain"], holder, _Holder) == "set"


def _program() -> None:
    network = openstack.networking.Network("net", name="n")
    openstack.networking.Subnet("subnet", network_id=network.id, cidr="10.0.0.0/24")
    pulumi.export("id", network.id)


def test_a_plan_leaves_the_sdk_and_the_collector_as_it_found_them() -> None:
    places = [(owner, name) for owner, name, _ in lean_sdk._replacements()]
    assert len(places) == 11

    def functions() -> list[Any]:
        return [getattr(owner, name) for owner, name in places]

    sdk = functions()
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            run_callable(_program)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
        assert functions() == sdk
    assert all(function.__module__.startswith("pulumi.") for function in sdk)
