"""Smoke test of the osbox cloud with openstacksdk (PyPI). Creates and cleans up
everything it makes. Uses clouds osbox-admin / osbox-demo from OS_CLIENT_CONFIG_FILE."""

import io, json, os, sys, time, traceback, uuid
import openstack

RESULTS = []
CLEANUP = []


def check(name):
    def deco(fn):
        t = time.time()
        try:
            info = fn()
            RESULTS.append((name, True))
            print("PASS %-28s %5.1fs %s" % (name, time.time() - t, info or ""))
        except Exception as e:  # noqa
            RESULTS.append((name, False))
            print(
                "FAIL %-28s %5.1fs %s: %s" % (name, time.time() - t, type(e).__name__, str(e)[:300])
            )
            traceback.print_exc(limit=2, file=sys.stdout)
        return fn

    return deco


adm = openstack.connect(cloud="osbox-admin")
demo = openstack.connect(cloud="osbox-demo")
PID = demo.current_project_id
S = {}
tag = uuid.uuid4().hex[:6]


@check("keystone: token/catalog")
def _():
    adm.auth_token
    return sorted({s.type for s in adm.identity.services()})


@check("keystone: project/user/role")
def _():
    p = adm.identity.create_project(name="p-" + tag, domain_id="default")
    u = adm.identity.create_user(
        name="u-" + tag, password="pw-" + tag, domain_id="default", default_project_id=p.id
    )
    adm.identity.assign_project_role_to_user(p, u, adm.identity.find_role("member"))
    c = openstack.connect(
        auth=dict(
            auth_url="http://127.0.0.1:5000/v3",
            username="u-" + tag,
            password="pw-" + tag,
            project_name="p-" + tag,
            user_domain_name="Default",
            project_domain_name="Default",
        ),
        region_name="RegionOne",
        load_yaml_config=False,
        load_envvars=False,
    )
    c.auth_token
    adm.identity.delete_user(u)
    adm.identity.delete_project(p)


@check("keystone: app credential")
def _():
    ac = demo.identity.create_application_credential(user=demo.current_user_id, name="ac-" + tag)
    c = openstack.connect(
        auth_type="v3applicationcredential",
        auth=dict(
            auth_url="http://127.0.0.1:5000/v3",
            application_credential_id=ac.id,
            application_credential_secret=ac.secret,
        ),
        region_name="RegionOne",
        load_yaml_config=False,
        load_envvars=False,
    )
    n = len(list(c.compute.flavors()))
    demo.identity.delete_application_credential(demo.current_user_id, ac.id)
    return "flavors via appcred: %d" % n


@check("keystone: ec2 credential")
def _():
    r = demo.identity.post(
        "/users/%s/credentials/OS-EC2" % demo.current_user_id, json={"tenant_id": PID}
    )
    S["ec2"] = r.json()["credential"]
    return S["ec2"]["access"]


@check("quotas: compute/network/volume")
def _():
    qc = adm.compute.get_quota_set(PID)
    qn = adm.network.get_quota(PID)
    qv = adm.block_storage.get_quota_set(PID)
    adm.network.update_quota(PID, floating_ips=60)
    return "cores=%s ram=%s instances=%s nets=%s fips=%s vols=%s gb=%s" % (
        qc.cores,
        qc.ram,
        qc.instances,
        qn.networks,
        adm.network.get_quota(PID).floating_ips,
        qv.volumes,
        qv.gigabytes,
    )


@check("flavors/images/ext-net")
def _():
    f = [x.name for x in demo.compute.flavors()]
    i = [x.name for x in demo.image.images()]
    e = [x.name for x in demo.network.networks(is_router_external=True)]
    assert f and i and e, (f, i, e)
    return "flavors=%s images=%s external=%s" % (f, i, e)


@check("image upload/delete")
def _():
    im = demo.image.create_image(
        name="img-" + tag,
        data=io.BytesIO(os.urandom(4096)),
        disk_format="raw",
        container_format="bare",
        wait=True,
    )
    st = demo.image.get_image(im.id).status
    demo.image.delete_image(im)
    assert st == "active", st


@check("network/subnet/router/sg/fip")
def _():
    N = demo.network
    ext = N.find_network("public")
    net = N.create_network(name="net-" + tag)
    CLEANUP.append(lambda: N.delete_network(net))
    sub = N.create_subnet(network_id=net.id, cidr="10.77.0.0/24", ip_version=4, name="sub-" + tag)
    CLEANUP.append(lambda: N.delete_subnet(sub))
    r = N.create_router(name="r-" + tag, external_gateway_info={"network_id": ext.id})
    CLEANUP.append(lambda: N.delete_router(r))
    N.add_interface_to_router(r, subnet_id=sub.id)
    CLEANUP.append(lambda: N.remove_interface_from_router(r, subnet_id=sub.id))
    sg = N.create_security_group(name="sg-" + tag)
    CLEANUP.append(lambda: N.delete_security_group(sg))
    N.create_security_group_rule(
        security_group_id=sg.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    fip = N.create_ip(floating_network_id=ext.id)
    CLEANUP.append(lambda: N.delete_ip(fip))
    S.update(net=net, sub=sub, sg=sg, fip=fip)
    return "fip=%s" % fip.floating_ip_address


@check("keypair")
def _():
    kp = demo.compute.create_keypair(name="kp-" + tag)
    CLEANUP.append(lambda: demo.compute.delete_keypair(kp))
    S["kp"] = kp
    return kp.fingerprint


@check("server boot ACTIVE + fip")
def _():
    fl = demo.compute.find_flavor("m1.tiny")
    img = demo.image.find_image("cirros-fake")
    srv = demo.compute.create_server(
        name="srv-" + tag,
        flavor_id=fl.id,
        image_id=img.id,
        networks=[{"uuid": S["net"].id}],
        key_name=S["kp"].name,
        security_groups=[{"name": S["sg"].name}],
    )
    CLEANUP.append(
        lambda: (demo.compute.delete_server(srv), demo.compute.wait_for_delete(srv, wait=60))
    )
    srv = demo.compute.wait_for_server(srv, status="ACTIVE", wait=120)
    S["srv"] = srv
    port = next(adm.network.ports(device_id=srv.id))
    demo.network.update_ip(S["fip"], port_id=port.id)
    CLEANUP.append(lambda: demo.network.update_ip(S["fip"], port_id=None))
    return "vif_type=%s fixed=%s fip->%s" % (
        port.binding_vif_type,
        port.fixed_ips[0]["ip_address"],
        demo.network.get_ip(S["fip"]).fixed_ip_address,
    )


@check("volume create + attach")
def _():
    BS = demo.block_storage
    v = BS.create_volume(size=1, name="vol-" + tag)
    CLEANUP.append(lambda: (BS.delete_volume(v), BS.wait_for_delete(v, wait=60)))
    v = BS.wait_for_status(v, status="available", failures=["error"], wait=60)
    demo.compute.create_volume_attachment(S["srv"], volume_id=v.id)
    v = BS.wait_for_status(v, status="in-use", failures=["error", "error_attaching"], wait=60)
    demo.compute.delete_volume_attachment(S["srv"], v.id)
    v = BS.wait_for_status(v, status="available", failures=["error", "error_detaching"], wait=60)
    return "status after detach=%s" % v.status


@check("quota usage")
def _():
    u = demo.compute.get_quota_set(PID, usage=True).usage
    return "instances=%s cores=%s" % (u.get("instances"), u.get("cores"))


@check("swift container/object")
def _():
    if not demo.has_service("object-store"):
        raise RuntimeError("no object-store in catalog")
    O = demo.object_store
    O.create_container(name="c-" + tag)
    O.upload_object(container="c-" + tag, name="o", data=b"hello")
    assert O.download_object("o", container="c-" + tag) == b"hello"
    O.delete_object("o", container="c-" + tag)
    O.delete_container("c-" + tag)
    return O.get_endpoint()


@check("S3 via EC2 credential")
def _():
    import boto3, botocore
    from urllib.parse import urlsplit

    u = urlsplit(demo.object_store.get_endpoint())  # S3 is served on the same host:port
    e = S["ec2"]
    s3 = boto3.client(
        "s3",
        endpoint_url="%s://%s" % (u.scheme, u.netloc),
        aws_access_key_id=e["access"],
        aws_secret_access_key=e["secret"],
        region_name="us-east-1",
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    s3.create_bucket(Bucket="b-" + tag)
    s3.put_object(Bucket="b-" + tag, Key="k", Body=b"v")
    assert s3.get_object(Bucket="b-" + tag, Key="k")["Body"].read() == b"v"
    s3.delete_object(Bucket="b-" + tag, Key="k")
    s3.delete_bucket(Bucket="b-" + tag)
    demo.identity.delete("/users/%s/credentials/OS-EC2/%s" % (demo.current_user_id, e["access"]))
    return u.netloc


@check("cleanup")
def _():
    errs = []
    for fn in reversed(CLEANUP):
        try:
            fn()
        except Exception as e:  # noqa
            errs.append(str(e)[:120])
    left = [p.id for p in demo.network.ports(network_id=S["net"].id)] if "net" in S else []
    assert not errs, errs
    return "ok"


p = sum(1 for _, ok in RESULTS if ok)
f = len(RESULTS) - p
print("%d passed, %d failed" % (p, f))
sys.exit(1 if f else 0)
