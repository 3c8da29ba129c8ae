"""Every stack file in stacks/, planned offline, and invariants over the whole plan."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from infra.errors import ConfigError
from infra.ops.sandbox import render, stack_name
from infra.plan.engine import PlanError, plan_stack, run_program
from infra.plan.ids import fake_id
from infra.plan.model import Plan, is_secret
from infra.stack.files import Project, load_project, load_stack_file
from infra.stack.profiles import defaults_for
from infra.stack.schema import stack_file_schema
from infra.stack.validation import leaf_paths, validate, validate_stack_file
from tests.support.stacks import DEV, ROOT, stack_document, with_changes, with_dns01_secret
from tests.support.values import all_strings

MakeProject = Callable[..., Project]

STACKS = sorted(
    p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
)


@cache
def _plan(stack: str) -> Plan:
    return plan_stack(load_project(ROOT), stack)


def test_the_expected_stacks_exist() -> None:
    assert {"ukdac-dev", "ukdac-test", "ukdac-prod", "ukdac-sbx-sample"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_plans_with_the_network_layer(stack: str, project: Project) -> None:
    config = validate_stack_file(load_stack_file(project, stack)).config
    plan = _plan(stack)
    (network,) = plan.find("openstack:networking/network:Network")
    (subnet,) = plan.find("openstack:networking/subnet:Subnet")
    (router,) = plan.find("openstack:networking/router:Router")
    (interface,) = plan.find("openstack:networking/routerInterface:RouterInterface")
    (external,) = [i for i in plan.invokes if i.token.endswith("getNetwork")]
    assert external.args == {"external": True, "name": config.cloud.external_network}
    # The router's gateway is the network the invoke found, not a name or a constant.
    assert router.inputs["externalNetworkId"] == fake_id("network", config.cloud.external_network)
    assert subnet.inputs["cidr"] == str(config.network.node_cidr)
    assert subnet.inputs["dnsNameservers"] == [str(ip) for ip in config.cloud.dns_nameservers]
    assert subnet.property_dependencies == {"networkId": [network.urn]}
    assert interface.property_dependencies == {
        "routerId": [router.urn],
        "subnetId": [subnet.urn],
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_lives_under_a_component_and_uses_an_explicit_provider(stack: str) -> None:
    plan = _plan(stack)
    by_urn = plan.by_urn()
    providers = {r.urn for r in plan.resources if r.type.startswith("pulumi:providers:")}
    for resource in plan.resources:
        if resource.urn in providers:
            continue
        assert resource.parent != plan.stack_urn or not resource.custom, resource.urn
        if not resource.custom and resource.type.startswith("kubernetes:"):
            # A remote component (yaml/v2): its children are made by the provider it names.
            assert resource.options["providers"]["kubernetes"] in providers, resource.urn
        elif not resource.custom:
            assert resource.type.startswith("ukdac:"), resource.urn
        elif resource.type.startswith(("openstack:", "kubernetes:")):
            assert resource.provider in providers, resource.urn
        assert resource.parent in by_urn or resource.parent == plan.stack_urn


@pytest.mark.parametrize("stack", STACKS)
def test_openstack_names_carry_the_stack_prefix(stack: str) -> None:
    plan = _plan(stack)
    for resource in plan.resources:
        name = resource.inputs.get("name")
        if resource.type.startswith("openstack:") and isinstance(name, str):
            assert name.startswith(f"{stack}-"), (resource.urn, name)


def test_openstack_names_of_two_stacks_never_collide() -> None:
    seen: dict[tuple[str, str], str] = {}
    for stack in STACKS:
        for resource in _plan(stack).resources:
            name = resource.inputs.get("name")
            if resource.type.startswith("openstack:") and isinstance(name, str):
                key = (resource.type, name)
                assert key not in seen, f"{key} in {stack} and {seen[key]}"
                seen[key] = stack


@pytest.mark.parametrize("stack", STACKS)
def test_no_key_material_or_secure_placeholder_in_plain_text(stack: str) -> None:
    plan = _plan(stack)
    texts = [s for r in plan.resources for s in all_strings(r.inputs)] + all_strings(plan.outputs)
    for text in texts:
        assert "PRIVATE KEY" not in text and "<secure:" not in text, text[:80]


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_carry_the_derived_values(stack: str, project: Project) -> None:
    stack_file = load_stack_file(project, stack)
    d = validate_stack_file(stack_file)
    outputs = _plan(stack).outputs
    assert outputs["fqdn"] == d.config.fqdn
    assert outputs["hostnames"]["vault"] == f"vault.{d.config.fqdn}"
    assert outputs["vaultUrl"] == d.vault_url
    assert outputs["vaultPathPrefix"] == d.vault_path_prefix
    secret = {"kubeconfig", "s3AccessKey", "s3SecretKey", "cloudConf"}
    if d.config.backups.enabled:
        # Decrypt and read the snapshots: kept out of sight (where they are is plain).
        secret |= {"backupPassphrase", "backupKeys"}
    assert {k for k, v in outputs.items() if is_secret(v)} == secret


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_set_only_what_differs_from_their_profile(stack: str, project: Project) -> None:
    raw = load_stack_file(project, stack).namespace()
    defaults = defaults_for(raw["environment"])
    for path in leaf_paths(raw):
        value: Any = defaults
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        assert value is None or value != _get(raw, path), (
            f"{stack}: ukdac:{'.'.join(map(str, path))} repeats the profile default"
        )


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_match_the_published_schema(stack: str) -> None:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    jsonschema.Draft202012Validator(stack_file_schema()).validate(document)


def test_schema_rejects_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    bad = {"config": {"ukdac:environment": "dev", "ukdac:fqdn": "a.b", "ukdac:colour": "red"}}
    assert list(validator.iter_errors(bad))
    nested = {
        "config": {"ukdac:environment": "dev", "ukdac:fqdn": "a.b", "ukdac:cloud": {"nme": "x"}}
    }
    assert list(validator.iter_errors(nested))


def test_sample_sandbox_is_the_template_rendered(project: Project) -> None:
    stack_file = load_stack_file(project, stack_name("sample"))
    raw = stack_file.namespace()
    rendered = render(
        "sample",
        owner=raw["sandbox"]["owner"],
        expires=date.fromisoformat(raw["sandbox"]["expires"]),
        node_cidr=raw["network"]["nodeCidr"],
        public_key=raw["cloud"]["keypairPublicKey"],
    )
    assert stack_file.path.read_text() == rendered


def test_two_plans_are_equal_and_planning_others_first_changes_nothing() -> None:
    project = load_project(ROOT)
    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "from infra.stack.files import load_project;"
            "from infra.plan.engine import plan_stack;"
            f"print(plan_stack(load_project({str(ROOT)!r}), 'ukdac-prod').to_json(), end='')",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    for stack in STACKS:
        plan_stack(project, stack)
    assert plan_stack(project, "ukdac-prod").to_json() == alone
    assert plan_stack(project, "ukdac-prod") == _plan("ukdac-prod")


def test_the_program_itself_rejects_a_bad_config_before_registering(
    make_project: MakeProject,
) -> None:
    """Under `pulumi up` there is no ukdac CLI in front: the program validates on its own."""

    project = make_project(
        {"ukdac-dev": stack_document(with_changes(DEV, **{"vault.mode": "dev"}))}
    )
    with pytest.raises(PlanError) as caught:
        run_program(load_stack_file(project, "ukdac-dev"))
    assert "ukdac:vault.mode = 'dev': not allowed in dev" in str(caught.value)


def test_secure_values_reach_the_program_as_secrets(make_project: MakeProject) -> None:

    document = with_dns01_secret(stack_document(DEV), {"secure": "v1:AAAA"})
    project = make_project({"ukdac-dev": document})
    plan = plan_stack(project, "ukdac-dev")
    assert plan.find("openstack:networking/network:Network")
    # The same value in plain text is refused by both the CLI's check and the program.
    document["config"]["ukdac:tls"]["dns01"]["tsigSecret"] = "c2VjcmV0"
    (project.stack_dir / "Pulumi.ukdac-dev.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="must be a `secure:` value"):
        plan_stack(project, "ukdac-dev")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_layers_cloud_declares_the_openstack_layer_alone(
    make_project: MakeProject, environment: str
) -> None:
    """A first `up` on a new cloud: every OpenStack resource of the full plan, nothing else."""
    raw = with_changes(DEV, environment=environment)
    if environment == "prod":
        raw = with_changes(raw, **{"tls.issuer": "letsencrypt", "tls.acmeEmail": "a@b.org"})
    full = make_project({"ukdac-x": stack_document(raw)})
    whole = plan_stack(full, "ukdac-x")
    staged_doc = stack_document(with_changes(raw, layers="cloud"))
    (full.stack_dir / "Pulumi.ukdac-x.yaml").write_text(yaml.safe_dump(staged_doc))
    staged = plan_stack(full, "ukdac-x")
    # The Kubernetes layer: its components (the URN carries the parent's type) and objects.
    cloud_part = {
        r.urn
        for r in whole.resources
        if "ukdac:kubernetes:" not in r.urn and not r.type.startswith("kubernetes:")
    }
    assert len(cloud_part) < len(whole.resources)
    assert {r.urn for r in staged.resources} == cloud_part
    assert not any(r.type.startswith("kubernetes:") for r in staged.resources)
    assert staged.outputs["layers"] == "cloud" and whole.outputs["layers"] == "all"
    assert "ingressClass" in whole.outputs and "ingressClass" not in staged.outputs
    assert staged.outputs["controlPlaneIp"] == whole.outputs["controlPlaneIp"]


def test_layers_takes_only_known_values() -> None:
    with pytest.raises(ConfigError, match="layers"):
        validate(with_changes(DEV, layers="platform"), "ukdac-dev", "test")


# In prod, everything whose loss loses data or the cluster's identity is protected.
PROD_PROTECTED = {
    "cluster-api-fip",  # the address DNS points at
    "cluster-ca",
    "cluster-ca-key",
    "cluster-etcd-ca",
    "cluster-etcd-ca-key",
    "cluster-front-proxy-ca",
    "cluster-front-proxy-ca-key",
    "cluster-sa-key",
    "cluster-control-plane-0",
    "cluster-control-plane-0-port",
    "cluster-control-plane-1",
    "cluster-control-plane-1-port",
    "cluster-control-plane-2",
    "cluster-control-plane-2-port",
    "object-store-ukdac-prod-tap-results",
    "object-store-ukdac-prod-user-files",
    "object-store-ukdac-prod-backups",  # the snapshots
    "backup-passphrase",  # without it no snapshot restores
    "qserv-namespace",
    "qserv-qserv",
    "vault",
    "vault-namespace",  # deleting it deletes Vault's volumes
}


def test_prod_protects_everything_whose_loss_loses_data_or_the_cluster() -> None:
    protected = {r.name for r in _plan("ukdac-prod").resources if r.options.get("protect")}
    assert protected == PROD_PROTECTED
    # Elsewhere nothing is protected: dev, test and sandboxes can be torn down.
    for stack in ("ukdac-dev", "ukdac-test", "ukdac-sbx-sample"):
        assert not [r.name for r in _plan(stack).resources if r.options.get("protect")], stack
