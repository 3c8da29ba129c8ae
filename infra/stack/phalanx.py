"""What phalanx needs from ukdac, derived from the same stack config.

Three kinds of values, each written once in the stack file:
- the keys ukdac owns in the fork's values files (`environments/values-<env>.yaml` and
  `applications/<app>/values-<env>.yaml`), which `ukdac phalanx-values` merges in;
- the bootstrap of vault-secrets-operator and Argo CD, the way phalanx's installer runs it
  (`helm upgrade --install <app> applications/<app>` with `values.yaml` and
  `values-<env>.yaml`), so that phalanx's own Applications adopt both with no diff; the
  fork-wide half of those values is data (`data/phalanx_bootstrap.json`), the
  per-environment half is what ukdac writes;
- the secrets ukdac provides for phalanx's applications.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from infra.stack.deployment import Deployment
from infra.stack.model import Identity

# The profiles' merge is Helm's merge of values files: maps key by key, the rest replaced.
from infra.stack.profiles import deep_merge

# Installed by ukdac itself, so phalanx must not install them again.
OWNED_BY_UKDAC = ("cert-manager", "ingress-nginx")

# Keys that name a live environment: a change is a deliberate, reviewed act, never a side
# effect of writing values (the writer refuses unless told).
ENVIRONMENT_IDENTITY = ("name", "fqdn", "vaultUrl", "vaultPathPrefix", "appOfAppsName")

# qserv-operator names the SQL proxy's Service `<Qserv name>-qserv` (controllers/util/name.go
# GetName with constants.QservName) on port 4040 (constants.ProxyPort), at commit 7b1bbd2f.
QSERV_RESOURCE = "qserv"
QSERV_NAMESPACE = "qserv"
QSERV_PROXY_PORT = 4040


@dataclass(frozen=True)
class ProvidedSecret:
    """A secret phalanx's application reads from Vault whose value ukdac makes."""

    application: str
    key: str
    stack_output: str


def environment_file(environment: str) -> str:
    """Where a phalanx fork keeps an environment's values."""
    return f"environments/values-{environment}.yaml"


ENVIRONMENT_DOCS = "docs/environments/index.rst"  # phalanx's toctree of environment pages


def environment_page(environment: str) -> str:
    """Where phalanx documents an environment (its docs tests require one for each)."""
    return f"docs/environments/{environment}/index.rst"


def application_file(application: str, environment: str, kind: str = "values") -> str:
    """Where a phalanx fork keeps an application's `values` (or `secrets`) for one environment."""
    return f"applications/{application}/{kind}-{environment}.yaml"


def qserv_query_host() -> str:
    return f"{QSERV_RESOURCE}-qserv.{QSERV_NAMESPACE}.svc.cluster.local:{QSERV_PROXY_PORT}"


def environment_values(d: Deployment) -> dict[str, Any]:
    """The keys ukdac owns in `environments/values-<env>.yaml`."""
    return {
        "name": d.config.phalanx.environment,
        "fqdn": d.hostnames.rsp,
        "vaultUrl": d.vault_url,
        "vaultPathPrefix": d.vault_path_prefix,
        "appOfAppsName": d.config.phalanx.app_of_apps_name,
        "applications": dict.fromkeys(OWNED_BY_UKDAC, False),
    }


def _gafaelfawr(identity: Identity | None, subdomains: bool) -> dict[str, Any]:
    # None: the key is removed (the chart's default, off) rather than written as false.
    config: dict[str, Any] = {"allowSubdomains": True if subdomains else None}
    if identity is None:
        return {"config": config}
    mapping: dict[str, list[Any]] = {}
    if identity.github:
        config["github"] = {"clientId": identity.github.client_id}
        for team, scopes in identity.github.teams.items():
            organization, _, slug = team.partition("/")
            for scope in scopes:
                entry = {"github": {"organization": organization, "team": slug}}
                mapping.setdefault(scope, []).append(entry)
    if identity.cilogon:
        config["cilogon"] = {"clientId": identity.cilogon.client_id}
        for group, scopes in identity.cilogon.groups.items():
            for scope in scopes:
                mapping.setdefault(scope, []).append(group)
    config["groupMapping"] = dict(sorted(mapping.items()))
    if identity.initial_admins:
        config["initialAdmins"] = list(identity.initial_admins)
    return {"config": config}


def tap_bucket(d: Deployment) -> str | None:
    wanted = d.config.buckets.tap_bucket
    for bucket in d.buckets:
        if wanted is None or bucket.name == wanted:
            return bucket.physical_name
    return None


def application_values(d: Deployment) -> dict[str, dict[str, Any]]:
    """The keys ukdac owns in each `applications/<app>/values-<env>.yaml`.

    The writer applies an application's keys only where phalanx enables that application.
    """
    phalanx = d.config.phalanx
    values: dict[str, dict[str, Any]] = {
        "argocd": {
            "argo-cd": {
                "configs": {
                    "cm": {"url": d.hostnames.argocd_url, "ui.bannercontent": phalanx.environment}
                },
                "server": {"ingress": {"hostname": d.hostnames.rsp}},
            }
        },
        "gafaelfawr": _gafaelfawr(phalanx.identity, phalanx.nublado_subdomains),
        "nublado": {"hub": {"useSubdomains": True if phalanx.nublado_subdomains else None}},
        "vault-secrets-operator": {},
    }
    tap: dict[str, Any] = {}
    bucket = tap_bucket(d)
    if bucket is not None:
        tap = {
            "gcsBucket": bucket,
            "gcsBucketUrl": d.config.buckets.s3_endpoint,
            "gcsBucketType": "S3",
        }
    if d.config.qserv.enabled:
        tap["qserv"] = {"host": qserv_query_host()}
    if tap:
        values["tap"] = {"cadc-tap": {"config": tap}}
    return values


def provided_secrets(d: Deployment) -> list[ProvidedSecret]:
    """The secrets whose values ukdac makes, by phalanx application and key."""
    if tap_bucket(d) is None:
        return []
    return [
        ProvidedSecret("tap", "AWS_ACCESS_KEY_ID", "s3AccessKey"),
        ProvidedSecret("tap", "AWS_SECRET_ACCESS_KEY", "s3SecretKey"),
    ]


def tap_secrets_file() -> dict[str, Any]:
    """`applications/tap/secrets-<env>.yaml`: declares the S3 keys for phalanx's audit."""
    return {
        "AWS_ACCESS_KEY_ID": {
            "description": "Access key of the EC2 credential ukdac made for the TAP results "
            "bucket on the Ceph RGW (stack output s3AccessKey).",
        },
        "AWS_SECRET_ACCESS_KEY": {
            "description": "Secret key of the EC2 credential ukdac made for the TAP results "
            "bucket on the Ceph RGW (stack output s3SecretKey).",
        },
    }


# --- The bootstrap ---------------------------------------------------------------------------


@cache
def bootstrap_data() -> dict[str, Any]:
    """phalanx's fork-wide bootstrap facts (tools/phalanx_bootstrap.py made them)."""
    text = resources.files("infra.stack").joinpath("data/phalanx_bootstrap.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def bootstrap_chart(application: str) -> dict[str, str]:
    chart: dict[str, str] = bootstrap_data()[application]["chart"]
    return chart


def vault_secrets_operator_values(d: Deployment) -> dict[str, Any]:
    """What phalanx's vault-secrets-operator Application renders for this environment."""
    data = bootstrap_data()["vault-secrets-operator"]
    own = application_values(d)["vault-secrets-operator"].get("vault-secrets-operator", {})
    values = deep_merge(data["values"], own)
    return deep_merge(values, {"vault": {"address": d.vault_url}})


def argocd_values(d: Deployment) -> dict[str, Any]:
    """What phalanx's argocd Application renders for the argo-cd chart in this environment."""
    data = bootstrap_data()["argocd"]
    return deep_merge(data["values"], application_values(d)["argocd"]["argo-cd"])


def argocd_objects(d: Deployment) -> list[dict[str, Any]]:
    """The objects phalanx's argocd chart adds to argo-cd's (the `argocd-secret` VaultSecret)."""
    text = json.dumps(bootstrap_data()["argocd"].get("objects", []))
    rendered: list[dict[str, Any]] = json.loads(
        Template(text).substitute(vaultSecretsPath=d.vault_path_prefix)
    )
    return rendered
