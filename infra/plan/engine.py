"""Run the Pulumi program of a stack under Pulumi's mock runtime and record what it registers.

`RecordingMonitor` stands where the Pulumi engine would: it sees each RegisterResource,
Invoke and RegisterResourceOutputs request whole, so the plan holds parents, dependencies,
options and inputs exactly as the program declared them. It also does what the engine does
and the stock mock monitor does not: it rejects duplicate URNs, marks the outputs a resource
lists in `additionalSecretOutputs` as secret, and refuses invokes the fakes cannot answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import runpy
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.errors import UkdacError
from infra.plan import fakes
from infra.plan.ids import fake_id
from infra.plan.lean_sdk import hand_over, lean_runtime
from infra.plan.model import (
    UNKNOWN,
    ConfigEntry,
    Plan,
    PlannedInvoke,
    PlannedResource,
    join_path,
)
from infra.plan.redact import redact
from infra.plan.wire import NotPlain, deserialized, from_struct, to_struct
from infra.stack.files import Project, StackFile, load_stack_file
from infra.stack.validation import effective_config, validate_stack_file

_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig
_RESOURCE = rpc._special_resource_sig
_ASSET = rpc._special_asset_sig
_ARCHIVE = rpc._special_archive_sig

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

# The mock runtime is process-global: one plan at a time.
_RUNTIME_LOCK = threading.Lock()


class PlanError(UkdacError):
    """The program could not be planned offline."""


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _digest(value: Any) -> str:
    if isinstance(value, str):
        return _text_digest(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


@functools.lru_cache(maxsize=256)
def _text_digest(text: str) -> str:
    """A secret string's digest, once per text: every node of a group carries the same user
    data (kilobytes), and its digest was a tenth of what recording a node cost."""
    return hashlib.sha256(json.dumps(text).encode()).hexdigest()[:8]


def render_value(value: Any, show_secrets: bool) -> Any:
    """A wire value (protobuf Struct as JSON) as plan data: secrets masked, refs as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET:
            inner = render_value(value.get("value"), show_secrets=True)
            return inner if show_secrets else f"[secret:{_digest(inner)}]"
        if sig == _RESOURCE:
            return {"$resource": value.get("urn")}
        if sig in (_ASSET, _ARCHIVE):
            return {k: render_value(v, show_secrets) for k, v in value.items() if k != _SIG}
        return {k: render_value(v, show_secrets) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [render_value(v, show_secrets) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return _number(value)


def secret_text(value: Any, path: str = "", secret: bool = False) -> dict[str, list[str]]:
    """Multi-line strings under a secret in a wire value, by path, redacted line by line."""
    found: dict[str, list[str]] = {}
    if isinstance(value, str) and secret and "\n" in value:
        found[path] = redact(value)
    elif isinstance(value, dict):
        if value.get(_SIG) == _SECRET:
            found.update(secret_text(value.get("value"), path, True))
        elif value.get(_SIG) is None:
            for key, item in value.items():
                found.update(secret_text(item, join_path(path, key), secret))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(secret_text(item, join_path(path, index), secret))
    return found


def _provider_urn(reference: str) -> str | None:
    return reference.rsplit("::", 1)[0] if reference else None


def default_provider_urn(type_: str, version: str) -> str:
    """The provider the engine makes for a resource that names none: one per package and
    version, named `default_<major>_<minor>_<patch>` (the engine's provider registry)."""
    package = type_.split(":", 1)[0]
    name = "default" + ("_" + version.replace(".", "_").replace("-", "_") if version else "")
    stack, project = settings.get_stack(), settings.get_project()
    return f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::{name}"


def _options(request: Any) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.HasField("protect") and request.protect:
        options["protect"] = True
    if request.HasField("retainOnDelete") and request.retainOnDelete:
        options["retainOnDelete"] = True
    if request.deleteBeforeReplaceDefined:
        options["deleteBeforeReplace"] = request.deleteBeforeReplace
    if request.ignoreChanges:
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if request.replaceOnChanges:
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    if request.additionalSecretOutputs:
        options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
    if request.HasField("customTimeouts"):
        timeouts = {
            k: v
            for k, v in (
                ("create", request.customTimeouts.create),
                ("update", request.customTimeouts.update),
                ("delete", request.customTimeouts.delete),
            )
            if v
        }
        if timeouts:
            options["customTimeouts"] = timeouts
    if request.remote and request.providers:
        # A remote (provider-side) component: which providers its children will use.
        options["providers"] = {
            package: _provider_urn(ref) for package, ref in sorted(request.providers.items())
        }
    if request.aliases:
        options["aliases"] = [json_format.MessageToDict(alias) for alias in request.aliases]
    if request.deletedWith:
        options["deletedWith"] = request.deletedWith
    if request.importId:
        options["import"] = request.importId
    return options


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers from the fakes tables (`infra/plan/fakes.py`)."""

    def __init__(self) -> None:
        self.unknown_invokes: list[str] = []

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        fake = fakes.INVOKES.get(args.token)
        if fake is None:
            self.unknown_invokes.append(args.token)
            raise fakes.FakeError(
                f"invoke {args.token} is not in the offline fakes table (infra/plan/fakes.py)"
            )
        return fake(fakes.plain(args.args))

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        raise NotImplementedError("RecordingMonitor computes resource state itself")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that records every request, the way the engine would see it."""

    def __init__(self, mocks: OfflineMocks, show_secrets: bool) -> None:
        super().__init__(mocks)
        self.offline = mocks
        self.show_secrets = show_secrets
        self.records: dict[str, PlannedResource] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.invokes: list[PlannedInvoke] = []
        self.errors: list[str] = []
        self._states: dict[str, dict[str, Any]] = {}  # id -> state, for fakes
        self._plain_states: dict[str, Mapping[str, Any]] = {}  # id -> its plain state, read-only
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole type chain, the root stack left out.

        (The SDK's mock keeps only the parent's own type and prefixes the stack's type.)
        """
        if parent:
            parent_chain = parent.split("::")[2]
            if parent_chain != ROOT_STACK_TYPE:
                type_ = f"{parent_chain}${type_}"
        return f"urn:pulumi:{settings.get_stack()}::{settings.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == ROOT_STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        wire = from_struct(request.object)
        try:
            inputs = deserialized(wire)
        except NotPlain:
            inputs = rpc.deserialize_properties(request.object)
        if "__provider" in wire:  # a dynamic provider's pickled code: not plan data
            wire["__provider"] = "[dynamic provider]"
        record = PlannedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=request.custom,
            provider=_provider_urn(request.provider)
            or (
                default_provider_urn(request.type, request.version)
                if request.custom and not request.type.startswith("pulumi:providers:")
                else None
            ),
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
                if deps.urns
            },
            options=_options(request),
            inputs=render_value(wire, self.show_secrets),
            secret_text={} if self.show_secrets else secret_text(wire),
        )
        with self._lock:
            if urn in self.records:
                self.errors.append(
                    f"duplicate resource URN {urn}: two resources share the type and name "
                    f"'{request.name}' under one parent"
                )
            self.records[urn] = record

        resource_id = fake_id(urn) if request.custom else ""
        state = {**inputs, **fakes.resource_outputs(request.type, urn, inputs, self._by_id)}
        if request.custom:
            state.setdefault("id", resource_id)
        for key in request.additionalSecretOutputs:
            if key in state:
                state[key] = rpc.wrap_rpc_secret(state[key])
        obj = hand_over(state)
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        if request.custom:
            with self._lock:
                self._states[resource_id] = state
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

    def _by_id(self, resource_id: str) -> Mapping[str, Any]:
        """The (plain) state of a registered resource by id, for fakes that need a neighbour:
        made once per resource (every node's port asks for the same subnet) and read-only."""
        plain = self._plain_states.get(resource_id)
        if plain is None:
            state = self._states.get(resource_id)
            if state is None:
                return {}
            plain = self._plain_states[resource_id] = MappingProxyType(fakes.plain(state))
        return plain

    def Invoke(self, request: Any) -> Any:
        if request.tok == "pulumi:pulumi:getResource":  # a resource reference rehydrated
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        invoke = PlannedInvoke(
            token=request.tok,
            args=render_value(from_struct(request.args), self.show_secrets),
            provider=_provider_urn(request.provider),
        )
        with self._lock:
            self.invokes.append(invoke)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        call = pulumi_mocks.MockCallArgs(
            token=request.tok,
            args=rpc.deserialize_properties(request.args),
            provider=request.provider,
        )
        result = self.offline.call(call)
        return resource_pb2.ResourceInvokeResponse(**{"return": to_struct(result)})

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == ROOT_STACK_TYPE:
            self.stack_outputs = render_value(from_struct(request.outputs), self.show_secrets)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _clean_environment() -> Iterator[None]:
    """Config must come from the stack file only, not from a PULUMI_CONFIG in the shell."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PULUMI_CONFIG")}
    try:
        yield
    finally:
        os.environ.update(saved)


def run_program(stack_file: StackFile, show_secrets: bool = False) -> Plan:
    """Run the project's program for one stack under mocks and return what it registered."""
    program = stack_file.project.main / "__main__.py"
    return run_callable(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project=stack_file.project.name,
        stack=stack_file.stack,
        config=stack_file.runtime_config(),
        secret_keys=stack_file.secret_keys,
        show_secrets=show_secrets,
        source=stack_file.display,
    )


def run_callable(
    program: Callable[[], object],
    *,
    project: str = "unit",
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    show_secrets: bool = False,
    source: str = "<program>",
) -> Plan:
    """Run `program` as a Pulumi program under mocks (`config` as the CLI would pass it)."""
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks, show_secrets)
    logger = logging.getLogger(f"ukdac.offline.{project}.{stack}")
    logger.propagate = False
    warnings = _Warnings()
    logger.handlers = [warnings]

    with _RUNTIME_LOCK, _clean_environment(), lean_runtime():
        settings.ROOT.set(None)
        set_all_config(dict(config or {}), list(secret_keys))
        pulumi_mocks.set_mocks(
            mocks, project=project, stack=stack, preview=True, logger=logger, monitor=monitor
        )
        # set_mocks registers a throwaway root; the program gets a fresh one, as under the CLI.
        settings.ROOT.set(None)
        settings.SETTINGS.outputs.clear()

        def main() -> None:
            program()

        try:
            _sync_await(run_in_stack(main))
        except UkdacError:
            raise
        except Exception as exc:
            unknown = sorted(set(mocks.unknown_invokes))
            if unknown:
                raise PlanError(
                    f"{source}: the program called invoke(s) the offline fakes cannot answer: "
                    f"{', '.join(unknown)} (add them to infra/plan/fakes.py)"
                ) from exc
            raise PlanError(f"{source}: the program failed offline: {exc}") from exc
        finally:
            settings.ROOT.set(None)
            set_all_config({}, [])

    problems = list(monitor.errors)
    if mocks.unknown_invokes:
        problems.append(
            "invoke(s) not in the offline fakes table: " + ", ".join(sorted(mocks.unknown_invokes))
        )
    if problems:
        raise PlanError(f"{source}: " + "; ".join(problems))
    return Plan(
        project=project,
        stack=stack,
        resources=sorted(monitor.records.values(), key=lambda r: r.urn),
        outputs=monitor.stack_outputs,
        invokes=sorted(
            monitor.invokes, key=lambda i: (i.token, json.dumps(i.args, sort_keys=True))
        ),
        warnings=warnings.messages,
    )


def plan_stack(project: Project, stack: str, show_secrets: bool = False) -> Plan:
    """Read and validate a stack file, then plan it: config errors come before any resource."""
    stack_file = load_stack_file(project, stack)
    validate_stack_file(stack_file)
    plan = run_program(stack_file, show_secrets=show_secrets)
    config = {
        key: ConfigEntry(value=value, source=source)
        for key, (value, source) in effective_config(stack_file).items()
    }
    return plan.model_copy(update={"config": config})
