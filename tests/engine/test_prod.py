"""A prod-shaped stack under the real engine: what protects it, and the one way through.

The operator's path for a faulty control plane is `pulumi up --replace URN`. Protect stops
it; a stack-file allowance (`ukdac:allow`) lifts protect from exactly that resource; the
policy pack refuses the unprotected control plane unless `ukdac policy-config` names the
allowance. The test cloud has no Octavia, so the shape keeps the floating-IP endpoint.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from tests.support.engine import (
    Engine,
    assert_policies_ran,
    first_up,
    inventory,
    left_behind,
    offline,
    policy_flags,
    remove_containers,
    write_stack,
)

MakeEngine = Callable[[dict[str, dict[str, Any]]], Engine]
KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR6kw+SbpchLzGRBZepWNMn63BqGHUr/4rq2WS0qWUs "
    "dev@example.org"
)
STACK = "eng-prod"
CONTROL_PLANE = "cluster-control-plane-0"
FIP = "cluster-api-fip"


def prod_shape() -> dict[str, Any]:
    return {
        "config": {
            "ukdac:environment": "prod",
            "ukdac:fqdn": "eng-prod.example.org",
            "ukdac:layers": "cloud",
            "ukdac:cloud": {
                "name": "osbox-demo",
                "externalNetwork": "public",
                "image": "cirros-fake",
                "keypairPublicKey": KEY,
                "applicationCredentialRoles": ["member"],
            },
            "ukdac:network": {"nodeCidr": "10.30.0.0/24"},
            "ukdac:cluster": {
                "endpoint": "floating-ip",
                "controlPlane": {"flavor": "m1.small", "count": 1},
                "nodeGroups": [
                    {
                        "name": "workers",
                        "flavor": "m1.tiny",
                        "count": 1,
                        "labels": {"tier": "utility"},
                    }
                ],
            },
            "ukdac:phalanx": {"environment": "engprod"},
            "ukdac:buckets": {"containers": [{"name": "tap-results"}]},
        }
    }


def _urn(engine: Engine, name: str) -> str:
    (urn,) = [r.urn for r in offline(engine, STACK).resources if r.name == name]
    return urn


def refusal(engine: Engine, *flags: str) -> str:
    """A preview that must fail: its text output (the JSON form leaves policy violations out)."""
    result = engine.run("preview", "--stack", STACK, *flags, check=False)
    assert result.returncode != 0, f"the preview went through: {result.stdout[-3000:]}"
    return result.stdout + result.stderr


def _server_id(engine: Engine, name: str) -> str:
    (state,) = [r for r in engine.export(STACK) if r["urn"].endswith(f"::{name}")]
    return str(state["id"])


def test_prod_refuses_a_replace_until_an_allowance_lets_exactly_that_one_through(
    make_engine: MakeEngine, demo: Any
) -> None:
    before = inventory(demo)
    document = prod_shape()
    engine = make_engine({STACK: document})
    plan = first_up(engine, STACK)
    assert sum(bool(r.options.get("protect")) for r in plan.resources) >= 10
    cp_urn, fip_urn = _urn(engine, CONTROL_PLANE), _urn(engine, FIP)

    # 1. Protect refuses the operator's replace.
    refused = refusal(engine, "--replace", cp_urn, *policy_flags(engine, STACK))
    assert "marked for protection" in refused and CONTROL_PLANE in refused, refused

    # 2. The allowance in the stack file, but a policy config that does not name it (a pack
    #    run by hand, or a stale config): the pack refuses the unprotected control plane.
    allowed = copy.deepcopy(document)
    allowed["config"]["ukdac:allow"] = [
        {"resource": CONTROL_PLANE, "change": "replace", "reason": "OPS-1 the host is faulty"}
    ]
    write_stack(engine.project, STACK, allowed)
    flags = policy_flags(engine, STACK)
    stale = engine.project / "policy-stale.json"
    config = json.loads((engine.project / f"policy-{STACK}.json").read_text())
    stale.write_text(json.dumps({k: {**v, "allowed": []} for k, v in config.items()}))
    by_pack = refusal(
        engine, "--replace", cp_urn, "--policy-pack", flags[1], "--policy-pack-config", str(stale)
    )
    assert "prod-stateful-protected" in by_pack, by_pack
    assert f"{CONTROL_PLANE} is a control plane" in by_pack

    # 3. The allowance lets exactly that one through: the floating IP stays protected ...
    both = refusal(engine, "--replace", cp_urn, "--replace", fip_urn, *flags)
    assert "marked for protection" in both and FIP in both, both
    # ... and the control plane alone is replaced, deleted before its successor is made
    #     (deleteBeforeReplace: its pre-made port can carry one server at a time).
    through = engine.preview(STACK, "--replace", cp_urn, *flags)
    assert_policies_ran(through.text)
    assert through.changes() == {cp_urn: "replace"}
    old_server = _server_id(engine, CONTROL_PLANE)
    replaced = engine.run(
        "up", "--stack", STACK, "--yes", "--skip-preview", "--replace", cp_urn, "--json", *flags
    )
    assert _server_id(engine, CONTROL_PLANE) != old_server
    # `up --json` streams the engine's events, one JSON document a line, in execution order.
    order = [
        event["resourcePreEvent"]["metadata"]["op"]
        for event in map(json.loads, replaced.stdout.splitlines())
        if event.get("resourcePreEvent", {}).get("metadata", {}).get("urn") == cp_urn
    ]
    assert order.index("delete-replaced") < order.index("create-replacement"), order

    # 4. The allowance withdrawn: protected again, and nothing else moves.
    write_stack(engine.project, STACK, document)
    engine.run("up", "--stack", STACK, "--yes", "--skip-preview", *policy_flags(engine, STACK))
    (state,) = [r for r in engine.export(STACK) if r["urn"] == cp_urn]
    assert state.get("protect") is True
    engine.run("preview", "--stack", STACK, "--expect-no-changes")

    # Teardown as the runbook has it: unprotect everything deliberately, then destroy.
    engine.run("state", "unprotect", "--all", "--yes", "--stack", STACK)
    engine.run("destroy", "--stack", STACK, "--yes", "--remove")
    # Prod's buckets are retained on delete: destroy leaves them, and only them.
    retained = {"eng-prod-backups", "eng-prod-tap-results"}
    assert left_behind(before, inventory(demo)) == {"containers": retained}
    remove_containers(demo, retained)  # what the teardown runbook has an operator do
