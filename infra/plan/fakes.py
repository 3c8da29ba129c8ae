"""The offline cloud: what providers would answer, deterministically, from one table each.

Two tables: `INVOKES` answers data-source calls (`get_network`, ...) and `RESOURCES` computes
the outputs a provider would add to a new resource's inputs. Everything derives from the
resource's URN or the call's arguments, so two plans of the same program are equal. An
invoke that is not in `INVOKES` is an error: a fake that silently returns nothing would let
a plan pass that the real cloud would reject.

TLS fakes return real key and certificate material (deterministic ECDSA and Ed25519 keys,
certificates signed with RFC 6979 signatures), so the program's own computations on them
(such as the CA hash of `kubeadm join`) run offline.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pulumi.runtime import rpc

from infra.plan.ids import fake_id

# Certificates made offline start here: real time would make two plans differ.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeError(Exception):
    """A program asked the offline cloud for something it cannot fake."""


def _seed(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def plain(value: Any) -> Any:
    """The value inside a secret wrapper (recursively), as a provider sees it."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Invokes
# ---------------------------------------------------------------------------------------------


def _get_network(args: Mapping[str, Any]) -> dict[str, Any]:
    name = args.get("name")
    if not name:
        raise FakeError("getNetwork without a name cannot be answered offline")
    return {
        "id": fake_id("network", name),
        "name": name,
        "external": bool(args.get("external", False)),
        "region": args.get("region", "RegionOne"),
        "mtu": 1500,
        "adminStateUp": "true",
        "subnets": [fake_id("subnet", name)],
        "allTags": [],
    }


# The offline cloud's Keystone: what `get_auth_scope` reports.
OFFLINE_AUTH_URL = "https://identity.offline.invalid:5000/v3"


def _get_auth_scope(args: Mapping[str, Any]) -> dict[str, Any]:
    region = args.get("region") or "RegionOne"
    endpoints = [
        {
            "id": fake_id("endpoint", i),
            "interface": i,
            "region": region,
            "regionId": region,
            "url": OFFLINE_AUTH_URL,
        }
        for i in ("public", "internal")
    ]
    return {
        "id": fake_id("token"),
        "name": "offline",
        "userId": fake_id("user"),
        "userName": "offline-operator",
        "userDomainId": "default",
        "userDomainName": "Default",
        "projectId": fake_id("project"),
        "projectName": "offline-project",
        "projectDomainId": "default",
        "projectDomainName": "Default",
        "domainId": "",
        "domainName": "",
        "region": region,
        "roles": [{"roleId": fake_id("role", "member"), "roleName": "member"}],
        "serviceCatalogs": [
            {
                "id": fake_id("service", "identity"),
                "name": "keystone",
                "type": "identity",
                "endpoints": endpoints,
            }
        ],
    }


def _get_image(args: Mapping[str, Any]) -> dict[str, Any]:
    name = args.get("name")
    if not name:
        raise FakeError("getImage without a name cannot be answered offline")
    return {
        "id": fake_id("image", name),
        "name": name,
        "region": args.get("region", "RegionOne"),
        "minDiskGb": 10,
        "minRamMb": 0,
        "sizeBytes": 3_000_000_000,
        "status": "active",
        "visibility": "public",
        "diskFormat": "qcow2",
        "containerFormat": "bare",
    }


INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "openstack:networking/getNetwork:getNetwork": _get_network,
    "openstack:identity/getAuthScope:getAuthScope": _get_auth_scope,
    "openstack:images/getImage:getImage": _get_image,
}


# ---------------------------------------------------------------------------------------------
# Resource outputs
# ---------------------------------------------------------------------------------------------

_CURVES: dict[str, ec.EllipticCurve] = {
    "P224": ec.SECP224R1(),
    "P256": ec.SECP256R1(),
    "P384": ec.SECP384R1(),
    "P521": ec.SECP521R1(),
}
_ORDERS = {
    "P224": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D,
    "P256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "P521": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _private_key(urn: str, inputs: Mapping[str, Any]) -> PrivateKey:
    algorithm = inputs.get("algorithm", "RSA")
    if algorithm == "ECDSA":
        curve = inputs.get("ecdsaCurve", "P224")
        secret = int.from_bytes(_seed(urn, "ecdsa") * 3, "big") % (_ORDERS[curve] - 1) + 1
        return ec.derive_private_key(secret, _CURVES[curve])
    if algorithm == "ED25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(_seed(urn, "ed25519"))
    raise FakeError(
        f"{urn}: tls PrivateKey algorithm {algorithm!r} cannot be made deterministically "
        "offline; use ECDSA or ED25519"
    )


def _load_key(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise FakeError("offline certificates are signed with ECDSA or Ed25519 keys only")
    return key


def _tls_private_key(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = _private_key(urn, inputs)
    public = key.public_key()
    traditional = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    none = serialization.NoEncryption()
    openssh_pub = public.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    blob = base64.b64decode(openssh_pub.split()[1])
    return {
        "privateKeyPem": key.private_bytes(serialization.Encoding.PEM, traditional, none).decode(),
        "privateKeyPemPkcs8": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none
        ).decode(),
        "privateKeyOpenssh": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, none
        ).decode(),
        "publicKeyPem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        "publicKeyOpenssh": openssh_pub.decode() + "\n",
        "publicKeyFingerprintMd5": ":".join(
            f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest()
        ),
        "publicKeyFingerprintSha256": "SHA256:"
        + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("="),
    }


_NAME_ATTRIBUTES = {
    "commonName": NameOID.COMMON_NAME,
    "organization": NameOID.ORGANIZATION_NAME,
    "organizationalUnit": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "country": NameOID.COUNTRY_NAME,
    "province": NameOID.STATE_OR_PROVINCE_NAME,
    "locality": NameOID.LOCALITY_NAME,
}
_EKU = {
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
}


def _subject(inputs: Mapping[str, Any]) -> x509.Name:
    subject = inputs.get("subject") or {}
    return x509.Name(
        [
            x509.NameAttribute(oid, str(subject[key]))
            for key, oid in _NAME_ATTRIBUTES.items()
            if subject.get(key)
        ]
    )


def _certificate(
    urn: str,
    inputs: Mapping[str, Any],
    subject: x509.Name,
    public_key: Any,
    issuer: x509.Name,
    signing_key: PrivateKey,
) -> dict[str, Any]:
    hours = int(inputs.get("validityPeriodHours", 24))
    uses = set(inputs.get("allowedUses") or [])
    is_ca = bool(inputs.get("isCaCertificate", False))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(int.from_bytes(_seed(urn, "serial")[:16], "big") >> 1)
        .not_valid_before(_EPOCH)
        .not_valid_after(_EPOCH + timedelta(hours=hours))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature="digital_signature" in uses,
                content_commitment=False,
                key_encipherment="key_encipherment" in uses,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign="cert_signing" in uses,
                crl_sign="crl_signing" in uses,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    ekus = [_EKU[u] for u in sorted(uses) if u in _EKU]
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in inputs.get("dnsNames") or []]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in inputs.get("ipAddresses") or []]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if isinstance(signing_key, ed25519.Ed25519PrivateKey):
        cert = builder.sign(signing_key, None)
    else:
        cert = builder.sign(signing_key, hashes.SHA256(), ecdsa_deterministic=True)
    return {
        "certPem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "validityStartTime": _EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "validityEndTime": (_EPOCH + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "readyForRenewal": False,
    }


def _tls_self_signed_cert(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = _load_key(inputs["privateKeyPem"])
    subject = _subject(inputs)
    return _certificate(urn, inputs, subject, key.public_key(), subject, key)


def _tls_cert_request(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = _load_key(inputs["privateKeyPem"])
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(inputs))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        csr = builder.sign(key, None)
    else:
        csr = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return {"certRequestPem": csr.public_bytes(serialization.Encoding.PEM).decode()}


def _tls_locally_signed_cert(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    csr = x509.load_pem_x509_csr(inputs["certRequestPem"].encode())
    ca_cert = x509.load_pem_x509_certificate(inputs["caCertPem"].encode())
    ca_key = _load_key(inputs["caPrivateKeyPem"])
    return _certificate(urn, inputs, csr.subject, csr.public_key(), ca_cert.subject, ca_key)


def _random_text(urn: str, inputs: Mapping[str, Any]) -> str:
    alphabet = ""
    if inputs.get("lower", True):
        alphabet += string.ascii_lowercase
    if inputs.get("upper", True):
        alphabet += string.ascii_uppercase
    if inputs.get("numeric", inputs.get("number", True)):
        alphabet += string.digits
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    length = int(inputs["length"])
    # New keepers make a new value, as the provider's replacement does.
    keepers = inputs.get("keepers")
    salt = (json.dumps(plain(keepers), sort_keys=True),) if keepers else ()
    stream = b"".join(_seed(urn, "random", str(i), *salt) for i in range(length // 32 + 1))
    return "".join(alphabet[b % len(alphabet)] for b in stream[:length])


def _random_password(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    result = _random_text(urn, inputs)
    return {"result": result, "bcryptHash": "$2a$10$" + _seed(urn, "bcrypt").hex()[:53]}


def _random_string(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"result": _random_text(urn, inputs)}


def _random_bytes(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    data = _seed(urn, "bytes") * (int(inputs["length"]) // 32 + 1)
    data = data[: int(inputs["length"])]
    return {"base64": base64.b64encode(data).decode(), "hex": data.hex()}


def _random_id(urn: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    data = (_seed(urn, "id") * 4)[: int(inputs["byteLength"])]
    prefix = inputs.get("prefix") or ""
    return {
        "hex": prefix + data.hex(),
        "b64Url": prefix + base64.urlsafe_b64encode(data).decode().rstrip("="),
        "b64Std": prefix + base64.b64encode(data).decode(),
        "dec": prefix + str(int.from_bytes(data, "big")),
    }


Lookup = Callable[[str], Mapping[str, Any]]


@functools.lru_cache(maxsize=64)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr)  # parsed once per subnet, not once per port


def _host_in(cidr: str, seed: bytes, skip: int = 20) -> str:
    network = _network(cidr)
    usable = network.num_addresses - skip - 2
    return str(network.network_address + skip + int.from_bytes(seed[:4], "big") % max(usable, 1))


def _port(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    addresses = []
    for index, fixed in enumerate(inputs.get("fixedIps") or []):
        address = fixed.get("ipAddress")
        if not address:
            subnet = lookup(fixed.get("subnetId", ""))
            address = _host_in(subnet.get("cidr", "10.0.0.0/24"), _seed(urn, str(index)))
        addresses.append(address)
    digest = _seed(urn, "mac")
    return {
        "allFixedIps": addresses,
        "macAddress": "fa:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3]),
        "allSecurityGroupIds": list(inputs.get("securityGroupIds") or []),
    }


def _load_balancer(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    """Octavia makes the VIP's port (on the VIP subnet, at the asked address)."""
    subnet = lookup(inputs.get("vipSubnetId", ""))
    return {
        "vipPortId": fake_id("port", urn),
        "vipAddress": inputs.get("vipAddress")
        or _host_in(subnet.get("cidr", "10.0.0.0/24"), _seed(urn)),
        "vipNetworkId": subnet.get("networkId", ""),
    }


def _floating_ip(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    # TEST-NET-3: never a real address.
    return {"address": f"203.0.113.{_seed(urn, 'fip')[0] % 250 + 2}"}


def _instance(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    networks = list(inputs.get("networks") or [])
    address = ""
    if networks and networks[0].get("port"):
        fixed = lookup(networks[0]["port"]).get("allFixedIps") or [""]
        address = fixed[0]
    return {"accessIpV4": address, "allMetadata": dict(inputs.get("metadata") or {})}


def _application_credential(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"secret": _seed(urn, "appcred").hex(), "projectId": fake_id("project")}


def _ec2_credential(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {
        "access": _seed(urn, "access").hex()[:32],
        "secret": _seed(urn, "secret").hex()[:32],
        "projectId": fake_id("project"),
        "userId": fake_id("user"),
        "trustId": "",
    }


def _keypair(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"fingerprint": ":".join(f"{b:02x}" for b in _seed(urn, "fingerprint")[:16])}


def _magnum_cluster(urn: str, inputs: Mapping[str, Any], lookup: Lookup) -> dict[str, Any]:
    api = f"203.0.113.{_seed(urn, 'api')[0] % 250 + 2}"
    ca = base64.b64encode(b"offline magnum CA " + _seed(urn, "ca")).decode()
    raw = (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: magnum\n  cluster:\n"
        f"    server: https://{api}:6443\n    certificate-authority-data: {ca}\n"
        "users:\n- name: admin\n  user:\n"
        f"    token: {_seed(urn, 'token').hex()}\n"
        "contexts:\n- name: default\n  context: {cluster: magnum, user: admin}\n"
        "current-context: default\n"
    )
    return {
        "apiAddress": f"https://{api}:6443",
        "masterAddresses": [api],
        "nodeAddresses": [],
        "stackId": fake_id("heat-stack", urn),
        "kubeconfig": {
            "rawConfig": raw,
            "host": f"https://{api}:6443",
            "clusterCaCertificate": ca,
            "clientCertificate": "",
            "clientKey": "",
        },
    }


OPENSTACK: dict[str, Callable[[str, Mapping[str, Any], Lookup], dict[str, Any]]] = {
    "openstack:networking/port:Port": _port,
    "openstack:networking/floatingIp:FloatingIp": _floating_ip,
    "openstack:loadbalancer/loadBalancer:LoadBalancer": _load_balancer,
    "openstack:compute/instance:Instance": _instance,
    "openstack:compute/keypair:Keypair": _keypair,
    "openstack:identity/applicationCredential:ApplicationCredential": _application_credential,
    "openstack:identity/ec2CredentialV3:Ec2CredentialV3": _ec2_credential,
    "openstack:containerinfra/cluster:Cluster": _magnum_cluster,
}

RESOURCES: dict[str, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": _tls_private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _tls_self_signed_cert,
    "tls:index/certRequest:CertRequest": _tls_cert_request,
    "tls:index/locallySignedCert:LocallySignedCert": _tls_locally_signed_cert,
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomString:RandomString": _random_string,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "random:index/randomId:RandomId": _random_id,
}


def resource_outputs(
    type_: str, urn: str, inputs: Mapping[str, Any], lookup: Lookup
) -> dict[str, Any]:
    """Computed outputs the provider would add for a new resource (none for most types).

    `lookup` gives the state of an already registered resource by its id (a port's subnet).
    """
    if type_ in OPENSTACK:
        return OPENSTACK[type_](urn, plain(dict(inputs)), lookup)
    fake = RESOURCES.get(type_)
    return fake(urn, plain(dict(inputs))) if fake else {}
