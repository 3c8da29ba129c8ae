"""The Pulumi SDK's costs a plan does not need, switched off while the mock runtime runs.

Each stand-in gives the same answers as the SDK function it replaces (tested side by side in
`tests/plan/test_lean_sdk.py`); `lean_runtime()` installs them for one plan and puts the
SDK's own back afterwards, so a process that plans and then runs a real program gets the
SDK unchanged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import itertools
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from google.protobuf import struct_pb2
from pulumi import ComponentResource, Resource, _types
from pulumi._utils import ContextProperty
from pulumi.output import Output, Unknown, _OutputData
from pulumi.runtime import rpc, settings
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.sync_await import _ensure_event_loop

from infra.plan.wire import NotPlain, answered, to_struct

_PLAIN = frozenset({str, int, float, bool})  # what the SDK serializes as it is
_SCALARS = _PLAIN | {bytes}  # what can hold no unknown


def contains_unknowns(val: Any) -> bool:
    """The SDK's `contains_unknowns`, without a recursive closure.

    The SDK's own defines its walker as a closure that refers to itself (a reference cycle) on
    every call, and every Output calls it: a third of the objects a plan leaves for the
    cyclic collector. Same answer, for the same values.
    """
    if val is None or type(val) in _SCALARS:
        return False
    pending, seen = [val], set()
    while pending:
        item = pending.pop()
        if isinstance(item, Unknown):
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _resolve(
    resource: Any,
    data: asyncio.Future[_OutputData[Any]],
    tracked: set[Any],
    lock: threading.Lock,
    value: Any,
    is_known: bool,
    is_secret: bool,
    deps: set[Any] | None,
    failed: Exception | None,
) -> None:
    if failed is not None:
        # Stays tracked: the program's end awaits it and raises, as the SDK's Output does.
        data.set_exception(failed)
        return
    resources = set(deps) if deps else set()
    resources.add(resource)
    data.set_result(
        _OutputData(resources=resources, value=value, is_known=is_known, is_secret=is_secret)
    )
    with lock:
        tracked.discard(data)


def transfer_properties(res: Any, props: Any, custom: bool) -> dict[str, rpc.Resolver]:
    """The SDK's `transfer_properties` with one future per output property instead of four.

    The SDK gives every output property of every resource four futures (value, known, secret,
    dependencies), a task that waits on them to build the Output's data, and a callback that
    stops tracking the Output once it is resolved. Here the resolver builds that data, settles
    one future and stops the tracking itself: the same Output, with the same value, knownness,
    secrecy, dependencies or error, tracked until resolved (kept if it fails) as the SDK's
    own, for a fraction of the event loop's work (a server has thirty-odd outputs).
    """
    tracked, lock = SETTINGS.outputs, SETTINGS.lock
    resolvers: dict[str, rpc.Resolver] = {}
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # the SDK resolves these itself
        data: asyncio.Future[_OutputData[Any]] = asyncio.Future()
        with lock:
            tracked.add(data)
        output: Output[Any] = object.__new__(Output)
        output._data = data
        resolvers[name] = functools.partial(_resolve, res, data, tracked, lock)
        res.__dict__[name] = output
    return resolvers


def resolve_properties(
    resolvers: dict[str, rpc.Resolver],
    all_properties: dict[str, Any],
    deps: Any,
    custom: bool,
    resolve_missing_as_unknown: bool = False,
) -> None:
    """The SDK's `resolve_properties`, asking whether this is a preview once per resource.

    The SDK asks it of the runtime settings for every output property of every resource.
    Each resolver gets the same value, knownness, secrecy and dependencies as from the SDK's.
    """
    dry_run = settings.is_dry_run()
    for key, value in all_properties.items():
        if key == "urn" or (key == "id" and custom):
            continue  # the SDK resolves these itself
        resolve = resolvers.get(key)
        if resolve is None:
            continue  # a property only `register_outputs` set: left as the component set it
        unwrapped = rpc.unwrap_rpc_secret(value)
        known = unwrapped is not None if dry_run else True
        resolve(unwrapped, known, rpc.is_rpc_secret(value), deps.get(key), None)
    missing_known = not dry_run and not resolve_missing_as_unknown
    for key, resolve in resolvers.items():
        if key not in all_properties:
            resolve(None, missing_known, False, deps.get(key), None)


def _context_property_get(self: ContextProperty, obj: Any, owner: Any) -> Any:
    """`ContextProperty.__get__` reading its context variable once instead of twice.

    Every read of a runtime setting (dry run? the monitor? the outputs being tracked?) goes
    through it, a few hundred per resource.
    """
    if obj is None:
        return self
    value = self.fget()  # type: ignore[no-untyped-call]
    return self if isinstance(value, dict) else value


def _plain_first(serialize: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The SDK's `serialize_property`, answering plain scalars itself.

    The SDK puts every scalar of every input through a dozen type checks (a sequence? a
    resource? an asset? an Output?) before handing it back unchanged; a plan's inputs are
    mostly scalars. Anything else, and any call that asks for a protobuf value, goes to the
    SDK's own.
    """

    async def serialize_property(
        value: Any,
        deps: Any,
        property_key: Any,
        resource_obj: Any = None,
        input_transformer: Any = None,
        typ: Any = None,
        keep_output_values: bool = False,
        exclude_resource_refs_from_deps: bool = False,
        return_protobuf_value: bool = False,
    ) -> Any:
        if (value is None or type(value) in _PLAIN) and not return_protobuf_value:
            return value
        return await serialize(
            value,
            deps,
            property_key,
            resource_obj,
            input_transformer,
            typ,
            keep_output_values,
            exclude_resource_refs_from_deps,
            return_protobuf_value,
        )

    return serialize_property


def _known(value: Any) -> Output[Any]:
    """An Output of a plain value, as `Output.all(...).apply(...)` of plain values gives."""
    data: asyncio.Future[_OutputData[Any]] = asyncio.Future()
    data.set_result(_OutputData(resources=set(), value=value, is_known=True, is_secret=False))
    return Output._from_data(data)


def _urn_first(create_urn: Callable[..., Output[str]]) -> Callable[..., Output[str]]:
    """The SDK's `create_urn`, answering plain names itself.

    The SDK computes every resource's URN as a chain of Outputs (`all`, then `apply`) even
    though, at registration, the name, type and parent URN are plain strings and the monitor
    gives the URN anyway. The same string is produced directly here; anything else goes to the
    SDK's own.
    """

    def urn(
        name: Any, type_: Any, parent: Any = None, project: Any = None, stack: Any = None
    ) -> Output[str]:
        if type(name) is not str or type(type_) is not str:
            return create_urn(name, type_, parent, project, stack)
        if parent is None:
            stack = settings.get_stack() if stack is None else stack
            project = settings.get_project() if project is None else project
            prefix = "urn:pulumi:" + stack + "::" + project + "::"
        elif type(parent) is str:
            prefix = parent[0 : parent.rfind("::")] + "$"
        else:
            return create_urn(name, type_, parent, project, stack)
        return _known(prefix + type_ + "::" + name)

    return urn


def _by_identity(unwrap: Callable[[type], type]) -> Callable[[type], type]:
    """`unwrap` answered once per type object.

    The SDK unwraps the declared type of every input and output property of every resource
    afresh, from `typing` introspection (a tenth of a plan). The answer depends on the type
    object alone, and the SDK reuses the same objects (it caches each class's hints), so it
    is kept per object, which is held so that its identity is not reused.
    """
    answers: dict[int, tuple[type, type]] = {}

    def cached(val: type) -> type:
        known = answers.get(id(val))
        if known is None:
            known = answers[id(val)] = (val, unwrap(val))
        return known[1]

    return cached


_DEPENDENCIES = "_direct_computed_dependencies"  # where the SDK records a resource's dependencies


def _reaches(start: Any, target: Any) -> bool:
    """Whether `target` is `start` or among its recorded dependencies, transitively."""
    seen: set[Any] = set()
    pending = [start]
    while pending:
        item = pending.pop()
        if item == target:
            return True
        if item not in seen:
            seen.add(item)
            pending.extend(getattr(item, _DEPENDENCIES, ()))
    return False


def _cycle_checked(
    add_dependency: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """The SDK's `_add_dependency`, walking the dependency graph without generators.

    The SDK checks every dependency of every resource for a cycle by walking the dependency's
    own dependencies through nested generators, and imports two names on every call; a worker
    has ten dependencies, each with a dozen behind it. The same walk (components expanded to
    their children, breadth first), the same record of each dependency; anything the SDK would
    refuse or skip (a value that is not a resource, a cycle) goes to the SDK's own, which
    raises or skips exactly as it would have.
    """

    async def checked(deps: dict[str, Any], res: Any, from_resource: Any) -> None:
        pending, waiting = [res], []
        for item in pending:  # grows as components are expanded
            if not isinstance(item, Resource):
                return await add_dependency(deps, res, from_resource)
            if from_resource:
                if _reaches(item, from_resource):
                    return await add_dependency(deps, res, from_resource)
                known: set[Any] = getattr(from_resource, _DEPENDENCIES, set())
                setattr(from_resource, _DEPENDENCIES, known | {item})
            if isinstance(item, ComponentResource) and not item._remote:
                pending.extend(item._childResources.copy())
            else:
                waiting.append(item)
        for item in waiting:
            urn = await item.urn.future()
            if urn:
                deps[urn] = item
        return None

    return checked


# The monitor's answers, handed to `resolve_outputs` as they are instead of through a Struct.
_ANSWER_KEY = "__ukdac_answer"
_handed: dict[str, Any] = {}
_tokens = itertools.count()


def hand_over(state: Mapping[str, Any]) -> struct_pb2.Struct:
    """The answer to a registration whose state is `state`, for the SDK to resolve outputs from.

    The SDK would read the outputs back out of a Struct the monitor builds for it, property by
    property through protobuf's Python-level accessors (a server has thirty-odd). In a preview
    (every plan) the Struct carries only a token for what the SDK would read from the full one
    (`wire.answered`), which the `resolve_outputs` stand-in takes. Outside a preview the SDK
    also merges the inputs in, and legacy apply differs: those, and state only the SDK can
    serialize, are sent whole.
    """
    legacy = settings.is_legacy_apply_enabled()  # type: ignore[no-untyped-call]
    if legacy or not settings.is_dry_run():
        return to_struct(state)
    try:
        answer = answered(state)
    except NotPlain:
        return to_struct(state)
    token = str(next(_tokens))
    _handed[token] = answer
    struct = struct_pb2.Struct()
    struct[_ANSWER_KEY] = token
    return struct


def _taken(outputs: struct_pb2.Struct) -> Any:
    fields = outputs.fields
    if len(fields) != 1 or _ANSWER_KEY not in fields:
        return None
    return _handed.pop(fields[_ANSWER_KEY].string_value, None)


def _answer_first(resolve_outputs: Callable[..., None]) -> Callable[..., None]:
    """The SDK's `resolve_outputs`, reading an answer `hand_over` kept instead of a Struct.

    The outputs are translated and resolved as the SDK does from the deserialized Struct; a
    Struct not made by `hand_over` goes to the SDK's own.
    """

    def resolve(
        res: Any,
        serialized_props: struct_pb2.Struct,
        outputs: struct_pb2.Struct,
        deps: Mapping[str, set[Any]],
        resolvers: dict[str, rpc.Resolver],
        custom: bool,
        transform_using_type_metadata: bool = False,
        keep_unknowns: bool = False,
        resolve_missing_as_unknown: bool = False,
    ) -> None:
        handed = _taken(outputs)
        if handed is None:
            return resolve_outputs(
                res,
                serialized_props,
                outputs,
                deps,
                resolvers,
                custom,
                transform_using_type_metadata,
                keep_unknowns,
                resolve_missing_as_unknown,
            )
        resource_cls = type(res)
        types = _types.resource_types(resource_cls)
        translate: Callable[[str], str] = res.translate_output_property
        passed = translate
        if transform_using_type_metadata:
            names = _types.resource_pulumi_to_py_names(resource_cls)

            def translate(key: str) -> str:
                return names.get(key) or key

            def passed(key: str) -> str:
                return key

        properties = {}
        for key, value in handed.items():
            name = translate(key)
            properties[name] = rpc.translate_output_properties(
                value,
                passed,
                types.get(key),
                transform_using_type_metadata,
                path=rpc._Path(name, resource=f"{res._name}"),
            )
        translated_deps = {translate(key): value for key, value in deps.items()}
        rpc.resolve_properties(
            resolvers, properties, translated_deps, custom, resolve_missing_as_unknown
        )

    return resolve


@contextmanager
def _answers_handed_over() -> Iterator[None]:
    """Answers a failed registration left behind are dropped with the plan."""
    try:
        yield
    finally:
        _handed.clear()


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs what it is given at once, on the calling thread, and hands back its outcome."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller awaits the future, which raises it
            future.set_exception(exc)
        return future


def _replacements() -> list[tuple[object, str, object]]:
    """Where each stand-in goes (owner, attribute) and what it is, made from the SDK's own.

    The walk of the Python stack the SDK makes at every registration, to report source
    positions a plan does not record (a quarter of a plan's time once), is skipped.
    """
    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime.proto import source_pb2

    return [
        (runtime_resource, "_get_stack_trace", source_pb2.StackTrace),
        (rpc, "contains_unknowns", contains_unknowns),
        (rpc, "transfer_properties", transfer_properties),
        (rpc, "resolve_properties", resolve_properties),
        (rpc, "resolve_outputs", _answer_first(rpc.resolve_outputs)),
        (rpc, "_add_dependency", _cycle_checked(rpc._add_dependency)),
        (rpc, "serialize_property", _plain_first(rpc.serialize_property)),
        (runtime_resource, "create_urn", _urn_first(runtime_resource.create_urn)),
        (_types, "unwrap_type", _by_identity(_types.unwrap_type)),
        (_types, "unwrap_optional_type", _by_identity(_types.unwrap_optional_type)),
        (ContextProperty, "__get__", _context_property_get),
    ]


@contextmanager
def _sdk_functions() -> Iterator[None]:
    """The stand-ins in place of the SDK's own functions, which are put back afterwards."""
    replacements = _replacements()
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in replacements]
    for owner, name, replacement in replacements:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextmanager
def _inline_monitor_calls() -> Iterator[None]:
    """The SDK sends every monitor call to the event loop's thread pool, as it would a gRPC
    call; the recording monitor answers synchronously, without an event loop of its own, so
    a plan runs each call on the loop's thread instead. Measured: a third of a warm prod plan
    was the loop waiting on the pool's threads. The loop's pool is put back afterwards."""
    loop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    previous = loop._default_executor
    loop.set_default_executor(InlineExecutor(max_workers=1))
    try:
        yield
    finally:
        loop._default_executor = previous


@contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while a plan runs.

    A plan allocates many short-lived futures; the collector's full passes over a growing heap
    made plan time grow faster than the node count (measured: 200-node plan 2.2 s -> 1.3 s).
    Memory is bounded by the plan and collected afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def lean_runtime() -> Iterator[None]:
    """All of the above for the duration of one plan."""
    with _sdk_functions(), _answers_handed_over(), _inline_monitor_calls(), _no_gc():
        yield
