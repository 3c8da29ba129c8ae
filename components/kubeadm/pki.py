"""What the program computes from the cluster's own key material: join hash and kubeconfig."""

from __future__ import annotations

import base64
import hashlib

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def ca_cert_hash(ca_cert_pem: str) -> str:
    """`sha256:<hex>` of the CA's SubjectPublicKeyInfo, as `kubeadm join` expects it."""
    cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def kubeconfig(
    *, cluster: str, server: str, ca_cert_pem: str, client_cert_pem: str, client_key_pem: str
) -> str:
    """An admin kubeconfig with embedded credentials."""
    user = f"{cluster}-admin"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_cert_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client_cert_pem),
                    "client-key-data": _b64(client_key_pem),
                },
            }
        ],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
    }
    return yaml.safe_dump(document, sort_keys=False)
