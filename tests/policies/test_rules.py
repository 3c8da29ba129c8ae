"""The policy pack's rules: every stack passes all of them; each fails on a plan broken for it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.plan.model import Plan
from policies.rules import LETSENCRYPT_PROD, POLICIES, UNKNOWN, run_all
from policies.views import from_plan
from tests.support.stacks import BACKENDS, STACKS, config, planned

Mutation = Callable[[dict[str, Any]], None]


def admin_cidrs(stack: str) -> tuple[str, ...]:
    return tuple(str(c) for c in config(stack).config.cloud.admin_cidrs)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_every_policy(stack: str, backend: str) -> None:
    assert run_all(from_plan(planned(stack, backend), admin_cidrs(stack))) == []


def _resources(
    data: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    found = [r for r in data["resources"] if predicate(r)]
    assert found, "the mutation found nothing to break"
    return found


def _rule(port: int, source: str) -> Callable[[dict[str, Any]], bool]:
    def match(r: dict[str, Any]) -> bool:
        i = r["inputs"]
        return (
            r["type"].endswith("secGroupRule:SecGroupRule")
            and i.get("portRangeMin") == port
            and i.get("remoteIpPrefix", "").startswith(source)
        )

    return match


def open_ssh_to_world(data: dict[str, Any]) -> None:
    _resources(data, _rule(22, "129.215"))[0]["inputs"]["remoteIpPrefix"] = "0.0.0.0/0"


def widen_https(data: dict[str, Any]) -> None:
    rule = _resources(data, _rule(443, "0.0.0.0"))[0]["inputs"]
    rule["portRangeMin"], rule["portRangeMax"] = 1, 65535


def https_over_udp(data: dict[str, Any]) -> None:
    """The right port in the wrong protocol is not the web."""
    _resources(data, _rule(443, "0.0.0.0"))[0]["inputs"]["protocol"] = "udp"


def api_from_elsewhere(data: dict[str, Any]) -> None:
    _resources(data, _rule(6443, "129.215"))[0]["inputs"]["remoteIpPrefix"] = "10.0.0.0/8"


def ssh_from_the_node_subnet(data: dict[str, Any]) -> None:
    """The node subnet may reach the API (the load balancer's amphorae), never SSH."""
    _resources(data, _rule(22, "129.215"))[0]["inputs"]["remoteIpPrefix"] = "10.10.0.0/24"


def plain_kubeconfig(data: dict[str, Any]) -> None:
    data["outputs"]["kubeconfig"] = "apiVersion: v1\nkind: Config\n"


def plain_secret_data(data: dict[str, Any]) -> None:
    secret = _resources(data, lambda r: r["type"] == "kubernetes:core/v1:Secret")[0]
    secret["inputs"]["stringData"] = {"cloud.conf": "[Global]\napplication-credential-secret=x\n"}


def unprotect_bucket(data: dict[str, Any]) -> None:
    for r in _resources(data, lambda r: r["type"].endswith("container:Container")):
        r["options"].pop("protect", None)


def _unprotect_named(name: str) -> Mutation:
    def unprotect(data: dict[str, Any]) -> None:
        (resource,) = _resources(data, lambda r: r["name"] == name)
        assert resource["options"].pop("protect") is True

    unprotect.__name__ = f"unprotect_{name.replace('-', '_')}"
    return unprotect


# One of each kind whose loss loses prod's data or its cluster.
UNPROTECTED = [
    _unprotect_named(name)
    for name in (
        "cluster-control-plane-1",
        "cluster-control-plane-1-port",
        "cluster-api-fip",
        "cluster-etcd-ca-key",
        "cluster-sa-key",
        "qserv-qserv",
        "qserv-namespace",
        "vault-namespace",
        "backup-passphrase",
    )
]


def unretain_bucket(data: dict[str, Any]) -> None:
    for r in _resources(data, lambda r: r["type"].endswith("container:Container")):
        r["options"].pop("retainOnDelete", None)


def _release(data: dict[str, Any], chart: str) -> dict[str, Any]:
    return _resources(
        data, lambda r: r["type"].endswith(":Release") and r["inputs"]["chart"] == chart
    )[0]


def vault_dev(data: dict[str, Any]) -> None:
    _release(data, "vault")["inputs"]["values"]["server"]["dev"] = {"enabled": True}


def unprotect_vault(data: dict[str, Any]) -> None:
    _release(data, "vault")["options"].pop("protect", None)


def staging_issuer(data: dict[str, Any]) -> None:
    ingress = _release(data, "vault")["inputs"]["values"]["server"]["ingress"]
    ingress["annotations"]["cert-manager.io/cluster-issuer"] = "letsencrypt-staging"


def staging_alias(data: dict[str, Any]) -> None:
    alias = _resources(
        data,
        lambda r: (
            r["type"].endswith(":ClusterIssuer")
            and r["inputs"]["metadata"]["name"] == "letsencrypt-dns"
        ),
    )[0]
    assert alias["inputs"]["spec"]["acme"]["server"] == LETSENCRYPT_PROD
    alias["inputs"]["spec"]["acme"]["server"] = (
        "https://acme-staging-v02.api.letsencrypt.org/directory"
    )


def auto_sync(data: dict[str, Any]) -> None:
    app = _resources(data, lambda r: r["type"].endswith(":Application"))[0]
    app["inputs"]["spec"]["syncPolicy"] = {"automated": {"prune": True}}


def float_chart(data: dict[str, Any]) -> None:
    _release(data, "argo-cd")["inputs"]["version"] = "~10.1"


def http_chart_repo(data: dict[str, Any]) -> None:
    _release(data, "vault")["inputs"]["repositoryOpts"]["repo"] = (
        "http://helm.releases.hashicorp.com"
    )


def api_from_anyone(data: dict[str, Any]) -> None:
    """A rule with neither a CIDR nor a source group admits everyone."""
    rule = _resources(data, _rule(6443, "129.215"))[0]["inputs"]
    rule.pop("remoteIpPrefix")


def nested_plain_credential(data: dict[str, Any]) -> None:
    """A credential in plain text deep in an ordinary input (a map inside a list)."""
    node = _resources(data, lambda r: r["type"].endswith("instance:Instance"))[0]
    node["inputs"]["metadata"]["extra"] = [{"appPassword": "hunter2hunter2"}]


def plain_secret_binary_data(data: dict[str, Any]) -> None:
    secret = _resources(data, lambda r: r["type"] == "kubernetes:core/v1:Secret")[0]
    secret["inputs"].pop("stringData", None)
    secret["inputs"]["data"] = {"config": "cGxhaW4="}  # a key no secret-name rule would catch


def plain_secret_in_a_list(data: dict[str, Any]) -> None:
    secret = _resources(data, lambda r: r["type"] == "kubernetes:core/v1:Secret")[0]
    secret["inputs"]["stringData"] = {"items": ["[secret:00000000]", "plain"]}


def staging_issuer_in_a_list(data: dict[str, Any]) -> None:
    """An issuer annotation inside a list element is found too."""
    values = _release(data, "argo-cd")["inputs"]["values"]
    values["extraObjects"] = [
        {"metadata": {"annotations": {"cert-manager.io/cluster-issuer": "selfsigned"}}}
    ]


def _group_rule(port: int) -> Callable[[dict[str, Any]], bool]:
    def match(r: dict[str, Any]) -> bool:
        i = r["inputs"]
        return (
            r["type"].endswith("secGroupRule:SecGroupRule")
            and i.get("direction") == "ingress"
            and i.get("portRangeMin") == port
            and bool(i.get("remoteGroupId"))
        )

    return match


def web_port_from_anyone(data: dict[str, Any]) -> None:
    """Neither a CIDR nor a source group: Neutron admits the whole Internet."""
    rule = _resources(data, _group_rule(10250))[0]["inputs"]
    rule.pop("remoteGroupId")


def api_source_unknown(data: dict[str, Any]) -> None:
    """A prefix computed at apply time with no group cannot be checked in a preview."""
    rule = _resources(data, _rule(6443, "129.215"))[0]["inputs"]
    rule["remoteIpPrefix"] = UNKNOWN


def kubelet_source_unknown(data: dict[str, Any]) -> None:
    rule = _resources(data, _group_rule(10250))[0]["inputs"]
    rule.pop("remoteGroupId")
    rule["remoteIpPrefix"] = UNKNOWN


BROKEN: list[tuple[str, str, Mutation]] = [
    ("world-ingress-only-http-https", "ukdac-dev", web_port_from_anyone),
    ("world-ingress-only-http-https", "ukdac-dev", kubelet_source_unknown),
    ("ssh-and-api-from-admins", "ukdac-test", api_source_unknown),
    ("ssh-and-api-from-admins", "ukdac-dev", api_from_anyone),
    ("credentials-are-secret", "ukdac-dev", nested_plain_credential),
    ("credentials-are-secret", "ukdac-dev", plain_secret_binary_data),
    ("credentials-are-secret", "ukdac-dev", plain_secret_in_a_list),
    ("prod-real-certificates", "ukdac-prod", staging_issuer_in_a_list),
    ("world-ingress-only-http-https", "ukdac-dev", open_ssh_to_world),
    ("world-ingress-only-http-https", "ukdac-dev", widen_https),
    ("world-ingress-only-http-https", "ukdac-dev", https_over_udp),
    ("ssh-and-api-from-admins", "ukdac-dev", open_ssh_to_world),
    ("ssh-and-api-from-admins", "ukdac-test", api_from_elsewhere),
    ("ssh-and-api-from-admins", "ukdac-prod", ssh_from_the_node_subnet),
    ("credentials-are-secret", "ukdac-dev", plain_kubeconfig),
    ("credentials-are-secret", "ukdac-dev", plain_secret_data),
    ("prod-stateful-protected", "ukdac-prod", unprotect_bucket),
    ("prod-stateful-protected", "ukdac-prod", unprotect_vault),
    *(("prod-stateful-protected", "ukdac-prod", m) for m in UNPROTECTED),
    ("prod-buckets-retained", "ukdac-prod", unretain_bucket),
    ("vault-dev-only-in-sandbox", "ukdac-dev", vault_dev),
    ("prod-real-certificates", "ukdac-prod", staging_issuer),
    ("prod-real-certificates", "ukdac-prod", staging_alias),
    ("prod-no-auto-sync", "ukdac-prod", auto_sync),
    ("charts-pinned", "ukdac-test", float_chart),
    ("charts-pinned", "ukdac-sbx-sample", http_chart_repo),
]


def test_every_policy_has_a_broken_case() -> None:
    assert {name for name, *_ in BROKEN} == {p.name for p in POLICIES}


@pytest.mark.parametrize(
    ("policy", "stack", "mutate"), BROKEN, ids=[f"{p}-{m.__name__}" for p, _, m in BROKEN]
)
def test_each_policy_fails_where_it_must(policy: str, stack: str, mutate: Mutation) -> None:
    data = copy.deepcopy(planned(stack).model_dump(by_alias=True))
    mutate(data)
    broken = Plan.model_validate(data)
    violations = [v for v in run_all(from_plan(broken, admin_cidrs(stack))) if v.policy == policy]
    assert violations, f"{policy} let {mutate.__name__} through"
    assert all(v.message for v in violations)


def as_in_a_preview(data: dict[str, Any]) -> None:
    """What a new stack's preview gives a policy: the provider computes `remoteIpPrefix` of a
    rule that names a remote group, so it is unknown until apply (seen in the real engine)."""
    for r in data["resources"]:
        if r["type"].endswith("secGroupRule:SecGroupRule") and "remoteIpPrefix" not in r["inputs"]:
            r["inputs"]["remoteIpPrefix"] = UNKNOWN


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_in_a_preview_with_unknowns(stack: str) -> None:
    data = copy.deepcopy(planned(stack).model_dump(by_alias=True))
    as_in_a_preview(data)
    previewed = Plan.model_validate(data)
    assert any(r.inputs.get("remoteIpPrefix") == UNKNOWN for r in previewed.resources), (
        "the preview's unknowns were not put in"
    )
    assert run_all(from_plan(previewed, admin_cidrs(stack))) == []


def test_the_pack_reads_unknowns_as_a_mark_instead_of_giving_up() -> None:
    """pulumi_policy's proxies raise on an unknown, and the SDK then skips the whole policy:
    the pack turns the engine's properties into plain data with UNKNOWN in their place."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    from policies.__main__ import known

    props = unknown_checking_proxy(
        {
            "remoteIpPrefix": UNKNOWN_STRING_VALUE,
            "remoteGroupId": "g",
            "tags": ["a", UNKNOWN_STRING_VALUE],
            "nested": {"deep": [{"x": UNKNOWN_STRING_VALUE, "y": 1}]},
        }
    )
    assert known(props) == {
        "remoteIpPrefix": UNKNOWN,
        "remoteGroupId": "g",
        "tags": ["a", UNKNOWN],
        "nested": {"deep": [{"x": UNKNOWN, "y": 1}]},
    }


def test_the_pack_leaves_out_what_the_provider_computes_and_keeps_what_the_program_passed() -> None:
    """In a preview both a computed `remoteGroupId` (the program set a prefix) and one the
    program passed from a new group are unknown; only the second has a property dependency.
    Read as given, every prefix rule looked group-scoped and went unchecked."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    from policies.__main__ import program_props

    prefix_rule = unknown_checking_proxy(
        {
            "direction": "ingress",
            "remoteIpPrefix": "0.0.0.0/0",
            "remoteGroupId": UNKNOWN_STRING_VALUE,
        }
    )
    assert program_props(prefix_rule, {}) == {"direction": "ingress", "remoteIpPrefix": "0.0.0.0/0"}
    group_rule = unknown_checking_proxy(
        {"remoteIpPrefix": UNKNOWN_STRING_VALUE, "remoteGroupId": UNKNOWN_STRING_VALUE}
    )
    assert program_props(group_rule, {"remoteGroupId": ["urn:group"]}) == {"remoteGroupId": UNKNOWN}


def test_the_offline_plan_marks_unknowns_as_the_rules_do() -> None:
    from infra.plan.model import UNKNOWN as PLAN_UNKNOWN

    assert PLAN_UNKNOWN == UNKNOWN


def test_the_same_breakage_is_fine_where_the_rule_does_not_apply() -> None:
    """Auto-sync and the staging issuer are allowed outside prod."""
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    auto_sync(data)
    staging_issuer(data)
    assert run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev"))) == []


def test_policy_pack_module_builds_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    """policies/__main__.py registers one mandatory stack policy per rule."""
    import pulumi_policy

    from policies import __main__ as pack_module

    made: list[Any] = []
    monkeypatch.setattr(pack_module, "PolicyPack", lambda **kwargs: made.append(kwargs))
    pack_module.build_pack()
    (pack,) = made
    assert pack["name"] == "ukdac"
    assert [p.name for p in pack["policies"]] == [p.name for p in POLICIES]
    assert pack["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY


def test_pack_view_reads_policy_config_and_engine_resources() -> None:
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyResource,
        PolicyResourceOptions,
        StackValidationArgs,
    )

    from policies.__main__ import view_of

    opts = PolicyResourceOptions(True, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    resource = PolicyResource(
        "openstack:objectstorage/container:Container",
        {"name": "b"},
        "urn:x",
        "b",
        opts,
        None,
        None,
        [],
        {},
    )
    args = StackValidationArgs(
        [resource], config={"environment": "prod", "adminCidrs": ["192.0.2.0/24"]}
    )
    view = view_of(args)
    assert view.environment == "prod" and view.admin_cidrs == ("192.0.2.0/24",)
    assert view.resources[0].protect is True
    # Under the engine, neither secretness nor retainOnDelete is visible: those checks stand down.
    assert not view.secrets_visible and not view.retain_visible
    assert run_all(view) == []


def test_egress_and_udp_rules_on_ssh_and_api_ports_are_not_admin_access() -> None:
    """Only inbound TCP to 22 and 6443 is administrator access."""
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    rule = _resources(data, _rule(22, "129.215"))[0]["inputs"]
    rule["remoteIpPrefix"] = "198.51.100.0/24"
    for change in ({"direction": "egress"}, {"protocol": "udp"}):
        variant = copy.deepcopy(data)
        target = _resources(variant, _rule(22, "198.51"))[0]["inputs"]
        target.update(change)
        violations = run_all(from_plan(Plan.model_validate(variant), admin_cidrs("ukdac-dev")))
        assert [v for v in violations if v.policy == "ssh-and-api-from-admins"] == [], change


def test_a_view_finds_custom_resources_by_kind_alone() -> None:
    view = from_plan(planned("ukdac-dev"), admin_cidrs("ukdac-dev"))
    (application,) = view.custom("Application")
    assert application.type == "kubernetes:argoproj.io/v1alpha1:Application"
    issuers = view.custom("ClusterIssuer")
    assert issuers and all(r.type.endswith(":ClusterIssuer") for r in issuers)
    assert view.custom("Instance") == []  # an OpenStack type is not a custom resource


def test_masked_values_inside_lists_are_masked() -> None:
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    secret = _resources(data, lambda r: r["type"] == "kubernetes:core/v1:Secret")[0]
    secret["inputs"]["stringData"] = {"items": ["[secret:00000000]", "[secret:11111111]"]}
    violations = run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
    assert [v for v in violations if v.policy == "credentials-are-secret"] == []


def test_a_vault_reference_is_not_a_credential_but_a_literal_one_is() -> None:
    """argocd-secret's templates name Vault keys; a literal password in their place is caught."""
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    (vault_secret,) = _resources(data, lambda r: r["type"].endswith(":VaultSecret"))
    templates = vault_secret["inputs"]["spec"]["templates"]
    assert templates["admin.password"] == '{% index .Secrets "admin.password" %}'
    assert not [
        v
        for v in run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
        if v.policy == "credentials-are-secret"
    ]
    templates["admin.password"] = "hunter2-but-longer"
    violations = run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
    assert [v.message for v in violations if v.policy == "credentials-are-secret"] == [
        "phalanx-argocd-secret: spec.templates.admin.password holds a credential in plain text"
    ]


def test_an_annotation_naming_a_secret_object_is_not_a_credential_but_a_literal_one_is() -> None:
    """Vault's ingress names the Secret nginx verifies Vault with (`namespace/name`)."""
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    (vault,) = _resources(data, lambda r: r["name"] == "vault" and r["type"].endswith(":Release"))
    annotations = vault["inputs"]["values"]["server"]["ingress"]["annotations"]
    key = "nginx.ingress.kubernetes.io/proxy-ssl-secret"
    assert annotations[key] == "vault/vault-server-tls"

    def flagged() -> list[str]:
        violations = run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
        return [v.message for v in violations if v.policy == "credentials-are-secret"]

    assert flagged() == []
    for literal in ("s3cr3t-Value-for-the-proxy", "admin/Hunter2"):
        annotations[key] = literal
        assert flagged() == [
            f"vault: values.server.ingress.annotations.{key} holds a credential in plain text"
        ]


@pytest.mark.parametrize("key", ["kubeconfig", "s3AccessKey", "s3SecretKey", "cloudConf"])
def test_every_credential_output_must_be_secret(key: str) -> None:
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    data["outputs"][key] = "plain"
    violations = run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
    assert [v.message for v in violations] == [f"stack output {key} is not a secret"]


def test_violations_name_the_path_and_the_ports() -> None:
    """A reviewer finds the offending value from the message alone."""
    data = copy.deepcopy(planned("ukdac-dev").model_dump(by_alias=True))
    nested_plain_credential(data)
    widen_https(data)
    messages = {
        v.message for v in run_all(from_plan(Plan.model_validate(data), admin_cidrs("ukdac-dev")))
    }
    assert any(
        m.endswith(": metadata.extra[0].appPassword holds a credential in plain text")
        for m in messages
    ), messages
    assert any("opens tcp 1-65535 to the Internet" in m for m in messages), messages
