"""What phalanx needs from ukdac, derived from the same stack config.

The environment file (`environments/values-<env>.yaml`) gets the hostname, Vault URL and
path, and the applications ukdac owns turned off; TAP gets its bucket settings. A hostname
is therefore written once, in the stack file.
"""

from __future__ import annotations

from typing import Any

from infra.stack.deployment import Deployment

# Installed by ukdac itself, so phalanx must not install them again.
OWNED_BY_UKDAC = ("cert-manager", "ingress-nginx")


def environment_values(d: Deployment) -> dict[str, Any]:
    """The phalanx environment values file of this stack."""
    return {
        "name": d.config.phalanx.environment,
        "fqdn": d.hostnames.rsp,
        "vaultUrl": d.vault_url,
        "vaultPathPrefix": d.vault_path_prefix,
        "appOfAppsName": d.config.phalanx.app_of_apps_name,
        "applications": dict.fromkeys(OWNED_BY_UKDAC, False),
    }


def tap_bucket(d: Deployment) -> str | None:
    wanted = d.config.buckets.tap_bucket
    for bucket in d.buckets:
        if wanted is None or bucket.name == wanted:
            return bucket.physical_name
    return None


def application_values(d: Deployment) -> dict[str, dict[str, Any]]:
    """Per-application values (`applications/<app>/values-<env>.yaml`) ukdac can derive."""
    bucket = tap_bucket(d)
    if bucket is None:
        return {}
    return {
        "tap": {
            "cadc-tap": {
                "config": {
                    "gcsBucket": bucket,
                    "gcsBucketUrl": d.config.buckets.s3_endpoint,
                    "gcsBucketType": "S3",
                }
            }
        }
    }


def vault_secrets(d: Deployment) -> list[tuple[str, str, str]]:
    """(Vault path, key, stack output holding the value) phalanx expects to find."""
    path = f"{d.vault_path_prefix}/tap"
    return [
        (path, "AWS_ACCESS_KEY_ID", "s3AccessKey"),
        (path, "AWS_SECRET_ACCESS_KEY", "s3SecretKey"),
    ]
