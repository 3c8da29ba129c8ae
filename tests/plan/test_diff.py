"""Plan diffs as the engine would act: operations per type, cascades, blast radius, config,
footprint, and element-by-element lists."""

from __future__ import annotations

from typing import Any

import pytest

from infra.plan.diff import ABSENT, Change, SecretText, diff_plans, hazards, value_changes
from infra.plan.ids import fake_id
from infra.plan.model import ConfigEntry, Plan, PlannedResource
from infra.plan.render import blast_radius, flagged, footprint_delta, operation

INSTANCE = "openstack:compute/instance:Instance"
PORT = "openstack:networking/port:Port"


def resource(name: str, type_: str, inputs: dict[str, Any], **options: Any) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:s::p::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        inputs=inputs,
        options=options,
    )


def plan(*resources: PlannedResource, **extra: Any) -> Plan:
    return Plan(project="p", stack="s", resources=list(resources), **extra)


def one_change(type_: str, before: dict[str, Any], after: dict[str, Any], **options: Any) -> str:
    diff = diff_plans(
        plan(resource("r", type_, before, **options)), plan(resource("r", type_, after, **options))
    )
    (only,) = diff.resources
    return operation(only)


# (type, inputs before, inputs after, operation): one updatable and one replacing input per
# type the program declares, from the provider's own rules.
CASES = [
    (INSTANCE, {"userData": "a"}, {"userData": "b"}, "replace"),
    (INSTANCE, {"flavorName": "m1.large"}, {"flavorName": "m1.xlarge"}, "update"),
    (INSTANCE, {"metadata": {"a": "1"}}, {"metadata": {"a": "2"}}, "update"),
    (INSTANCE, {"networks": [{"port": "p1"}]}, {"networks": [{"port": "p2"}]}, "replace"),
    (INSTANCE, {"keyPair": "k1"}, {"keyPair": "k2"}, "replace"),
    (
        PORT,
        {"fixedIps": [{"ipAddress": "10.0.0.1"}]},
        {"fixedIps": [{"ipAddress": "10.0.0.2"}]},
        "update",
    ),
    (PORT, {"networkId": "n1"}, {"networkId": "n2"}, "replace"),
    (
        "openstack:networking/subnet:Subnet",
        {"cidr": "10.0.0.0/24"},
        {"cidr": "10.1.0.0/24"},
        "replace",
    ),
    ("openstack:networking/subnet:Subnet", {"name": "a"}, {"name": "b"}, "update"),
    (
        "openstack:networking/secGroupRule:SecGroupRule",
        {"portRangeMin": 1},
        {"portRangeMin": 2},
        "replace",
    ),
    (
        "openstack:networking/secGroup:SecGroup",
        {"description": "a"},
        {"description": "b"},
        "update",
    ),
    ("openstack:compute/keypair:Keypair", {"publicKey": "a"}, {"publicKey": "b"}, "replace"),
    (
        "openstack:compute/serverGroup:ServerGroup",
        {"policies": ["a"]},
        {"policies": ["b"]},
        "replace",
    ),
    ("openstack:networking/network:Network", {"name": "a"}, {"name": "b"}, "update"),
    ("openstack:networking/floatingIp:FloatingIp", {"pool": "a"}, {"pool": "b"}, "replace"),
    (
        "openstack:networking/floatingIp:FloatingIp",
        {"description": "a"},
        {"description": "b"},
        "update",
    ),
    (
        "openstack:identity/applicationCredential:ApplicationCredential",
        {"roles": ["a"]},
        {"roles": ["b"]},
        "replace",
    ),
    ("openstack:containerinfra/nodeGroup:NodeGroup", {"nodeCount": 1}, {"nodeCount": 2}, "update"),
    (
        "openstack:containerinfra/nodeGroup:NodeGroup",
        {"flavorId": "a"},
        {"flavorId": "b"},
        "replace",
    ),
    ("tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA"}, {"algorithm": "RSA"}, "replace"),
    ("random:index/randomPassword:RandomPassword", {"length": 16}, {"length": 20}, "replace"),
    (
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "a"}},
        {"metadata": {"name": "b"}},
        "replace",
    ),
    (
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "a", "labels": {"x": "1"}}},
        {"metadata": {"name": "a", "labels": {"x": "2"}}},
        "update",
    ),
    ("kubernetes:core/v1:Secret", {"type": "Opaque"}, {"type": "kubernetes.io/tls"}, "replace"),
    (
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"parameters": {"a": "1"}},
        {"parameters": {"a": "2"}},
        "replace",
    ),
    ("kubernetes:helm.sh/v3:Release", {"values": {"a": 1}}, {"values": {"a": 2}}, "update"),
    ("kubernetes:helm.sh/v3:Release", {"namespace": "a"}, {"namespace": "b"}, "replace"),
]


@pytest.mark.parametrize(("type_", "before", "after", "expected"), CASES)
def test_each_type_updates_or_replaces_as_its_provider_does(
    type_: str, before: dict[str, Any], after: dict[str, Any], expected: str
) -> None:
    assert one_change(type_, before, after) == expected


def test_replace_on_changes_and_delete_before_replace_come_from_the_program() -> None:
    kind = "kubernetes:qserv.lsst.org/v1beta1:Qserv"
    assert one_change(kind, {"spec": {"storage": "1Ti"}}, {"spec": {"storage": "2Ti"}}) == "update"
    forced = one_change(
        kind,
        {"spec": {"storage": "1Ti"}},
        {"spec": {"storage": "2Ti"}},
        replaceOnChanges=["spec.storage"],
        deleteBeforeReplace=True,
    )
    assert forced == "delete, then replace"


def test_a_replaced_resource_replaces_whoever_holds_its_id() -> None:
    port_before = resource("n-port", PORT, {"networkId": "net-1"})
    port_after = resource("n-port", PORT, {"networkId": "net-2"})
    node = resource("n", INSTANCE, {"networks": [{"port": fake_id(port_before.urn)}]})
    other = resource("m", INSTANCE, {"metadata": {"refers": fake_id(port_before.urn)}})
    diff = diff_plans(plan(port_before, node, other), plan(port_after, node, other))
    by_name = {r.name: r for r in diff.resources}
    assert by_name["n-port"].kind == "replace"
    assert by_name["n"].kind == "replace"
    assert by_name["n"].replace_because == ("inputs.networks (refers to replaced n-port)",)
    # Metadata is updatable: an id there is a reference, not a reason to replace.
    assert "m" not in by_name


def test_lists_are_compared_element_by_element() -> None:
    before = {"general": [{"name": "a", "ip": "1"}, {"name": "b", "ip": "2"}]}
    after = {
        "general": [{"name": "a", "ip": "1"}, {"name": "b", "ip": "2"}, {"name": "c", "ip": "3"}]
    }
    assert list(value_changes(before, after)) == [
        Change("general[2]", ABSENT, {"name": "c", "ip": "3"})
    ]
    assert list(value_changes(after, before)) == [
        Change("general[2]", {"name": "c", "ip": "3"}, ABSENT)
    ]


def test_nested_inputs_appearing_and_disappearing_are_changes() -> None:
    assert list(value_changes({"a": {"b": 1}}, {"a": {"b": 1, "c": {"d": 2}}})) == [
        Change("a.c", ABSENT, {"d": 2})
    ]
    assert list(value_changes({"a": {"x": 1}}, {})) == [Change("a", {"x": 1}, ABSENT)]


def test_option_changes_are_changes() -> None:
    before = resource("b", "openstack:objectstorage/container:Container", {"name": "x"})
    after = resource(
        "b",
        "openstack:objectstorage/container:Container",
        {"name": "x"},
        protect=True,
        retainOnDelete=True,
    )
    (change,) = diff_plans(plan(before), plan(after)).resources
    assert change.kind == "update"
    assert {c.path for c in change.changes} == {"options.protect", "options.retainOnDelete"}


def test_blast_radius_names_protected_control_plane_and_stateful_first() -> None:
    cp = {"userData": "a", "metadata": {"ukdac-node-group": "control-plane"}}
    worker = {"userData": "a", "metadata": {"ukdac-node-group": "general"}}
    bucket = resource(
        "b", "openstack:objectstorage/container:Container", {"name": "x"}, protect=True
    )
    base = plan(
        resource("cp0", INSTANCE, cp),
        resource("w0", INSTANCE, worker),
        bucket,
        resource("ca-key", "tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA"}),
        resource("cluster-ca-key", "tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA"}),
    )
    head = plan(
        resource("cp0", INSTANCE, {**cp, "userData": "b"}),
        resource("w0", INSTANCE, {**worker, "userData": "b"}),
        resource("cluster-ca-key", "tls:index/privateKey:PrivateKey", {"algorithm": "RSA"}),
    )
    diff = diff_plans(base, head)
    radius = {r.name: reasons for r, reasons in blast_radius(diff)}
    assert radius["cp0"] == ("a control plane",)
    assert radius["w0"] == ()
    assert radius["b"] == (
        "protected: `pulumi up` fails until it is unprotected",
        "stateful: a bucket and its objects",
    )
    assert radius["cluster-ca-key"] == (
        "stateful: the cluster's identity (a CA or service-account key)",
    )
    assert radius["ca-key"] == ()  # a deleted key named otherwise is not the cluster's
    # Hazards come first, so the reviewer reads them before the routine replacements.
    names = [r.name for r, _ in blast_radius(diff)]
    assert names.index("w0") > max(names.index(n) for n in ("cp0", "b", "cluster-ca-key"))
    assert flagged(diff)
    quiet = diff_plans(
        plan(resource("w0", INSTANCE, worker)),
        plan(resource("w0", INSTANCE, {**worker, "userData": "b"})),
    )
    assert not flagged(quiet)
    assert hazards(quiet.resources[0]) == ()


def test_vault_release_is_stateful() -> None:
    release = "kubernetes:helm.sh/v3:Release"
    base = plan(resource("vault", release, {"chart": "vault", "namespace": "vault"}))
    head = plan(resource("vault", release, {"chart": "vault", "namespace": "vault2"}))
    (change,) = diff_plans(base, head).resources
    assert hazards(change) == ("stateful: Vault and its storage",)


def test_config_changes_come_with_their_source() -> None:
    def configured(version: str, source: str, count: int) -> Plan:
        return plan(
            config={
                "ukdac:cluster.kubernetesVersion": ConfigEntry(value=version, source=source),
                "ukdac:cluster.nodeGroups": ConfigEntry(
                    value=[{"name": "general", "count": count}], source=source
                ),
                "ukdac:fqdn": ConfigEntry(value="x.org", source="stack file"),
            }
        )

    diff = diff_plans(configured("1.35.3", "dev profile", 3), configured("1.35.4", "stack file", 4))
    changes = {c.key: c for c in diff.config}
    assert set(changes) == {"ukdac:cluster.kubernetesVersion", "ukdac:cluster.nodeGroups[0].count"}
    version = changes["ukdac:cluster.kubernetesVersion"]
    assert (version.before, version.after) == ("1.35.3", "1.35.4")
    assert (version.before_source, version.after_source) == ("dev profile", "stack file")
    # A plan written before plans carried their config gives no config diff, not a false one.
    assert diff_plans(plan(), configured("1.35.4", "stack file", 4)).config == ()


def test_footprint_delta_counts_instances_vcpu_and_ram() -> None:
    node = {"flavorName": "m1.xlarge"}
    diff = diff_plans(
        plan(resource("a", INSTANCE, node)),
        plan(resource("a", INSTANCE, node), resource("b", INSTANCE, {"flavorName": "m1.large"})),
    )
    assert footprint_delta(diff) == [
        ("instances", 1, 2),
        ("vCPU", 8, 12),
        ("RAM GiB", 16, 24),
    ]
    unknown = diff_plans(plan(), plan(resource("b", INSTANCE, {"flavorName": "custom.big"})))
    assert footprint_delta(unknown) == [("instances", 0, 1)]  # no size guessed


def test_secret_text_changes_are_shown_by_redacted_lines() -> None:
    before = resource("n", INSTANCE, {"userData": "[secret:aaaa]"}).model_copy(
        update={"secret_text": {"userData": ["a", "kubelet=1.35.3", "z"]}}
    )
    after = resource("n", INSTANCE, {"userData": "[secret:bbbb]"}).model_copy(
        update={"secret_text": {"userData": ["a", "kubelet=1.35.4", "z"]}}
    )
    (change,) = diff_plans(plan(before), plan(after)).resources
    (text,) = change.changes
    assert text.before == SecretText(("a", "kubelet=1.35.3", "z"))
    assert text.after == SecretText(("a", "kubelet=1.35.4", "z"))
    assert change.kind == "replace" and change.replace_because == ("inputs.userData",)


def test_ignored_inputs_keep_the_resource() -> None:
    """A node's user data is ignored once it exists: a new recipe changes no running node."""
    ignore = {"ignoreChanges": ["userData"]}
    before = resource("n", INSTANCE, {"userData": "a", "flavorName": "m1.large"}, **ignore)
    recipe = resource("n", INSTANCE, {"userData": "b", "flavorName": "m1.large"}, **ignore)
    (kept,) = diff_plans(plan(before), plan(recipe)).resources
    assert kept.kind == "keep" and operation(kept) == "keep (ignored changes)"
    assert [c.path for c in kept.changes] == ["inputs.userData"]
    resized = resource("n", INSTANCE, {"userData": "b", "flavorName": "m1.xlarge"}, **ignore)
    (change,) = diff_plans(plan(before), plan(resized)).resources
    assert change.kind == "update"  # the resize goes ahead; the recipe still changes nothing
    assert [c.path for c in change.changes] == ["inputs.flavorName"]
    assert one_change(INSTANCE, {"userData": "a"}, {"userData": "b"}) == "replace"


def test_replacements_cascade_through_every_level() -> None:
    """network replaced -> its port (networkId forces) -> the node on that port."""
    network_type = "openstack:networking/network:Network"
    net_before = resource("net", network_type, {"availabilityZoneHints": ["a"]})
    net_after = resource("net", network_type, {"availabilityZoneHints": ["b"]})
    port = resource("p", PORT, {"networkId": fake_id(net_before.urn)})
    node = resource("n", INSTANCE, {"networks": [{"port": fake_id(port.urn)}]})
    diff = diff_plans(plan(net_before, port, node), plan(net_after, port, node))
    kinds = {r.name: r.kind for r in diff.resources}
    assert kinds == {"net": "replace", "p": "replace", "n": "replace"}


@pytest.mark.parametrize(
    ("type_", "what"),
    [
        ("openstack:objectstorage/container:Container", "a bucket and its objects"),
        ("openstack:blockstorage/volume:Volume", "a volume and its data"),
        ("openstack:containerinfra/cluster:Cluster", "the whole Magnum cluster"),
        ("kubernetes:core/v1:PersistentVolumeClaim", "a volume and its data"),
        ("kubernetes:core/v1:Namespace", "a namespace and everything in it"),
        ("kubernetes:qserv.lsst.org/v1beta1:Qserv", "Qserv and its storage"),
    ],
)
def test_deleting_stateful_types_is_a_hazard(type_: str, what: str) -> None:
    (gone,) = diff_plans(plan(resource("x", type_, {})), plan()).resources
    assert hazards(gone) == (f"stateful: {what}",)


def test_config_keys_that_appear_or_disappear_are_changes_with_one_source() -> None:
    base = plan(config={"ukdac:fqdn": ConfigEntry(value="x.org", source="stack file")})
    head = plan(
        config={
            "ukdac:fqdn": ConfigEntry(value="x.org", source="stack file"),
            "ukdac:qserv.storage": ConfigEntry(value="100Gi", source="prod profile"),
        }
    )
    (added,) = diff_plans(base, head).config
    assert (added.key, added.before, added.after) == ("ukdac:qserv.storage", ABSENT, "100Gi")
    assert (added.before_source, added.after_source) == (None, "prod profile")
    (removed,) = diff_plans(head, base).config
    assert (removed.before, removed.after, removed.after_source) == ("100Gi", ABSENT, None)


def test_secret_text_under_a_changed_input_is_shown_part_by_part() -> None:
    """A changed map of secrets shows each secret's redacted lines under its own path."""
    parts = {"stringData.a": ["one"], "stringData.b": ["two"]}
    before = resource("s", "kubernetes:core/v1:Secret", {"stringData": "[secret:aaaa]"})
    after = resource("s", "kubernetes:core/v1:Secret", {"stringData": "[secret:bbbb]"})
    changed = {**parts, "stringData.b": ["three"]}
    diff = diff_plans(
        plan(before.model_copy(update={"secret_text": parts})),
        plan(after.model_copy(update={"secret_text": changed})),
    )
    (text,) = diff.resources[0].changes
    assert text.before == SecretText(("# stringData.a", "one", "# stringData.b", "two"))
    assert text.after == SecretText(("# stringData.a", "one", "# stringData.b", "three"))


def test_a_replaced_service_account_key_is_the_clusters_identity() -> None:
    key = "tls:index/privateKey:PrivateKey"
    before = plan(resource("cluster-sa-key", key, {"algorithm": "ECDSA"}))
    after = plan(resource("cluster-sa-key", key, {"algorithm": "RSA"}))
    (change,) = diff_plans(before, after).resources
    assert change.kind == "replace"
    assert hazards(change) == ("stateful: the cluster's identity (a CA or service-account key)",)


def test_a_stack_added_or_removed_diffs_against_nothing() -> None:
    one = plan(resource("n", INSTANCE, {"name": "n"}))
    added = diff_plans(None, one)
    assert (added.base_exists, added.head_exists) == (False, True)
    assert [r.kind for r in added.resources] == ["add"]
    removed = diff_plans(one, None)
    assert (removed.base_exists, removed.head_exists) == (True, False)
    assert [r.kind for r in removed.resources] == ["remove"]
    with pytest.raises(ValueError, match="nothing to compare"):
        diff_plans(None, None)


def test_a_replacement_is_blocked_only_while_both_states_are_protected() -> None:
    """The engine replaces a resource whose new state is unprotected (an allowance), but
    deletes only what was deployed unprotected."""
    before = resource("cp", INSTANCE, {"keyPair": "k1"}, protect=True)
    allowed = resource("cp", INSTANCE, {"keyPair": "k2"}, protect=False)
    still = resource("cp", INSTANCE, {"keyPair": "k2"}, protect=True)
    (through,) = diff_plans(plan(before), plan(allowed)).resources
    (blocked,) = diff_plans(plan(before), plan(still)).resources
    assert through.kind == blocked.kind == "replace"
    assert not any(h.startswith("protected") for h in hazards(through))
    assert any(h.startswith("protected") for h in hazards(blocked))
    (gone,) = diff_plans(plan(before), plan()).resources
    assert gone.kind == "remove" and any(h.startswith("protected") for h in hazards(gone))
