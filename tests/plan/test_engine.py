"""The offline engine on small programs: what it records, how it fakes, when it refuses."""

from __future__ import annotations

import importlib.metadata

import pulumi
import pulumi_openstack as openstack
import pulumi_random as random
import pulumi_tls as tls
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from infra.plan.engine import PlanError, run_callable
from infra.plan.model import Plan, is_secret


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.net = openstack.networking.Network(f"{name}-net", name="n", opts=child)
        self.subnet = openstack.networking.Subnet(
            f"{name}-subnet",
            network_id=self.net.id,
            cidr="10.0.0.0/24",
            opts=child.merge(
                pulumi.ResourceOptions(
                    protect=True,
                    retain_on_delete=True,
                    ignore_changes=["tags"],
                    delete_before_replace=True,
                    custom_timeouts=pulumi.CustomTimeouts(create="20m", delete="5m"),
                )
            ),
        )
        self.register_outputs({})


def small_program() -> None:
    cloud = openstack.Provider("cloud", cloud="somewhere", region="R1")
    box = Box("box", pulumi.ResourceOptions(providers=[cloud]))
    openstack.networking.Router(
        "router",
        name="r",
        external_network_id="ext",
        opts=pulumi.ResourceOptions(provider=cloud, depends_on=[box.subnet]),
    )
    key = tls.PrivateKey("key", algorithm="ECDSA", ecdsa_curve="P256")
    openstack.compute.Keypair(
        "keypair",
        name="k",
        public_key=key.public_key_openssh,
        opts=pulumi.ResourceOptions(provider=cloud),
    )
    openstack.objectstorage.Container(
        "bucket",
        name="b",
        metadata={"token": pulumi.Output.secret("hunter2")},
        opts=pulumi.ResourceOptions(provider=cloud),
    )
    pulumi.export("privateKey", key.private_key_pem)
    pulumi.export("netId", box.net.id)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_callable(small_program)


def one(plan: Plan, name: str):  # type: ignore[no-untyped-def]
    (resource,) = [r for r in plan.resources if r.name == name]
    return resource


def test_parents_and_urns(plan: Plan) -> None:
    box, net = one(plan, "box"), one(plan, "box-net")
    assert box.type == "test:index:Box" and not box.custom
    assert net.parent == box.urn
    assert box.parent == plan.stack_urn
    assert (
        net.urn
        == "urn:pulumi:test::unit::test:index:Box$openstack:networking/network:Network::box-net"
    )


class Outer(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Outer", name, None)
        self.box = Box(f"{name}-box", pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def test_urns_are_the_engines() -> None:
    """The real engine leaves the root stack's type out of its children's URNs and gives a
    grandchild its whole ancestry of types (pkg/resource/urn.go, checked in the engine tier)."""
    plan = run_callable(lambda: Outer("outer"))
    prefix = "urn:pulumi:test::unit::"
    assert one(plan, "outer").urn == f"{prefix}test:index:Outer::outer"
    assert one(plan, "outer-box").urn == f"{prefix}test:index:Outer$test:index:Box::outer-box"
    assert one(plan, "outer-box-net").urn == (
        f"{prefix}test:index:Outer$test:index:Box$openstack:networking/network:Network::outer-box-net"
    )


def test_a_resource_without_a_provider_gets_the_engines_default_one(plan: Plan) -> None:
    """The engine makes one default provider per package and version; its URN is what the
    real preview names as the resource's provider."""
    version = importlib.metadata.version("pulumi_tls").replace(".", "_")
    assert one(plan, "key").provider == (
        f"urn:pulumi:test::unit::pulumi:providers:tls::default_{version}"
    )
    assert (
        one(plan, "router").provider == "urn:pulumi:test::unit::pulumi:providers:openstack::cloud"
    )
    assert one(plan, "box").provider is None  # a component has none


def test_explicit_and_property_dependencies(plan: Plan) -> None:
    subnet, router, net = one(plan, "box-subnet"), one(plan, "router"), one(plan, "box-net")
    assert subnet.property_dependencies == {"networkId": [net.urn]}
    assert net.urn in subnet.dependencies
    assert subnet.urn in router.dependencies


def test_options_are_recorded(plan: Plan) -> None:
    assert one(plan, "box-subnet").options == {
        "protect": True,
        "retainOnDelete": True,
        "ignoreChanges": ["tags"],
        "deleteBeforeReplace": True,
        "customTimeouts": {"create": "20m", "delete": "5m"},
    }
    assert one(plan, "box-net").options == {}
    assert one(plan, "key").options["additionalSecretOutputs"] == [
        "privateKeyOpenssh",
        "privateKeyPem",
        "privateKeyPemPkcs8",
    ]


def test_providers_are_recorded_through_components(plan: Plan) -> None:
    provider = one(plan, "cloud")
    assert provider.type == "pulumi:providers:openstack"
    assert provider.inputs == {"cloud": "somewhere", "region": "R1"}
    for name in ("box-net", "box-subnet", "router", "keypair"):
        assert one(plan, name).provider == provider.urn


def test_secrets_are_masked_in_inputs_and_outputs(plan: Plan) -> None:
    bucket = one(plan, "bucket")
    assert is_secret(bucket.inputs["metadata"]["token"])
    assert "hunter2" not in plan.to_json()
    # A provider's secret output (additionalSecretOutputs) stays secret in the stack outputs.
    assert is_secret(plan.outputs["privateKey"])
    assert "PRIVATE KEY" not in plan.to_json()
    # Non-secret outputs of the same resource flow as plain values.
    assert one(plan, "keypair").inputs["publicKey"].startswith("ecdsa-sha2-nistp256 ")


def test_show_secrets_reveals_them() -> None:
    revealed = run_callable(small_program, show_secrets=True)
    assert revealed.outputs["privateKey"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert one(revealed, "bucket").inputs["metadata"]["token"] == "hunter2"


def test_plans_are_deterministic_and_isolated(plan: Plan) -> None:
    def other() -> None:
        openstack.networking.Network("other", name="o")

    between = run_callable(other, stack="other")
    assert [r.name for r in between.resources] == ["other"]
    again = run_callable(small_program)
    assert again == plan


def test_unknown_invoke_is_an_error_that_names_it() -> None:
    def program() -> None:
        openstack.compute.get_flavor_output(name="m1.small")

    with pytest.raises(PlanError, match=r"openstack:compute/getFlavor:getFlavor.*fakes"):
        run_callable(program)


def test_known_invoke_is_answered_and_recorded() -> None:
    def program() -> None:
        ext = openstack.networking.get_network_output(name="external", external=True)
        pulumi.export("ext", ext.id)

    plan = run_callable(program)
    (invoke,) = plan.invokes
    assert invoke.token == "openstack:networking/getNetwork:getNetwork"
    assert invoke.args == {"external": True, "name": "external"}
    assert len(plan.outputs["ext"]) == 36


def test_duplicate_urn_is_an_error() -> None:
    def program() -> None:
        openstack.networking.Network("same", name="a")
        openstack.networking.Network("same", name="b")

    with pytest.raises(PlanError, match="duplicate resource URN"):
        run_callable(program)


def test_program_failure_is_a_plan_error() -> None:
    def program() -> None:
        raise RuntimeError("boom")

    with pytest.raises(PlanError, match="boom"):
        run_callable(program)


def test_config_is_passed_as_the_cli_would_with_secret_keys() -> None:
    def program() -> None:
        config = pulumi.Config("unit")
        openstack.networking.Network(
            "n",
            name=config.require_object("net")["name"],
            description=config.require_secret("token"),
        )

    plan = run_callable(
        program,
        config={"unit:net": '{"name": "from-config"}', "unit:token": "s3cr3t"},
        secret_keys=["unit:token"],
    )
    net = one(plan, "n")
    assert net.inputs["name"] == "from-config"
    assert is_secret(net.inputs["description"]) and "s3cr3t" not in plan.to_json()


def test_tls_fakes_give_real_deterministic_certificates() -> None:
    def program() -> None:
        ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA", ecdsa_curve="P256")
        ca = tls.SelfSignedCert(
            "ca",
            private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name="kubernetes"),
            is_ca_certificate=True,
            validity_period_hours=87600,
            allowed_uses=["cert_signing", "digital_signature", "key_encipherment"],
        )
        key = tls.PrivateKey("admin-key", algorithm="ECDSA", ecdsa_curve="P256")
        csr = tls.CertRequest(
            "admin-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(
                common_name="admin", organization="kubeadm:cluster-admins"
            ),
        )
        cert = tls.LocallySignedCert(
            "admin",
            cert_request_pem=csr.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            validity_period_hours=8760,
            allowed_uses=["client_auth", "digital_signature"],
        )
        pulumi.export("ca", ca.cert_pem)
        pulumi.export("admin", cert.cert_pem)

    first = run_callable(program)
    assert first == run_callable(program)
    ca = x509.load_pem_x509_certificate(first.outputs["ca"].encode())
    admin = x509.load_pem_x509_certificate(first.outputs["admin"].encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert admin.issuer == ca.subject
    public = ca.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        admin.signature, admin.tbs_certificate_bytes, ec.ECDSA(admin.signature_hash_algorithm)
    )  # type: ignore[arg-type]


def test_random_fakes_are_secret_and_deterministic() -> None:
    def program() -> None:
        token = random.RandomPassword("token", length=24, special=False)
        pulumi.export("token", token.result)

    plan = run_callable(program)
    assert is_secret(plan.outputs["token"])
    revealed = run_callable(program, show_secrets=True).outputs["token"]
    assert len(revealed) == 24 and revealed.isalnum()
    assert revealed == run_callable(program, show_secrets=True).outputs["token"]


def test_monitor_calls_run_on_the_plans_thread_and_the_loop_is_left_as_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from pulumi.runtime.sync_await import _ensure_event_loop

    from infra.plan.engine import RecordingMonitor

    threads: set[threading.Thread] = set()
    original = RecordingMonitor.RegisterResource

    def spy(self: RecordingMonitor, request: object) -> object:
        threads.add(threading.current_thread())
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    loop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    before = loop._default_executor
    run_callable(small_program)
    assert threads == {threading.current_thread()}
    assert loop._default_executor is before
