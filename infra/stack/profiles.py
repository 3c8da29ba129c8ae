"""Environment profiles: the defaults a stack file starts from, and what each environment allows.

`SITE` holds what every UKDAC environment on Somerville shares; `PROFILES` overlays it per
environment. Both are written in stack-file form (camelCase keys) and deep-merged under the
stack file, so a stack file sets only what differs. `POLICIES` is not a default: it says what
an environment may never do, whatever its stack file says.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from infra.stack.model import Environment
from infra.versions import pinned


@dataclass(frozen=True)
class Flavor:
    """A Nova flavor's size, for footprints (vCPU and RAM a change adds or frees)."""

    vcpus: int
    ram_mib: int


# Somerville's flavors as the stacks use them. The m1 sizes are OpenStack's defaults
# (m1.2xlarge doubling m1.xlarge); preflight and `sandbox list --flavors` ask the cloud.
FLAVORS: dict[str, Flavor] = {
    "m1.small": Flavor(1, 2048),
    "m1.medium": Flavor(2, 4096),
    "m1.large": Flavor(4, 8192),
    "m1.xlarge": Flavor(8, 16384),
    "m1.2xlarge": Flavor(16, 32768),
}

# Sandboxes' node /24s are allocated from this pool (`ukdac sandbox create`); every other
# environment keeps its nodes elsewhere (the site default is 10.10.0.0/24).
SANDBOX_POOL = IPv4Network("10.20.0.0/16")

# Shared by every environment on Somerville.
SITE: dict[str, Any] = {
    "cloud": {
        "region": "RegionOne",
        "externalNetwork": "external",
        "image": "ubuntu-24.04-noble-server",
        "dnsNameservers": ["1.1.1.1", "8.8.8.8"],
        # The University of Edinburgh network, from which the DAC team administers Somerville.
        "adminCidrs": ["129.215.0.0/16"],
        # The operations team's key (its private half is held by the team, not by this repo).
        "keypairPublicKey": (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILq7OvGtQ//UCAKkHZxjYTI+L4hwEMItW0X/UqIKBiBv "
            "dac-ops@lsst.ac.uk"
        ),
    },
    "network": {
        "nodeCidr": "10.10.0.0/24",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "10.96.0.0/12",
    },
    "cluster": {
        "backend": "kubeadm",
        "kubernetesVersion": pinned("kubernetes"),
        "cni": "calico",
        "endpoint": "floating-ip",
    },
    "tls": {"solver": "http01", "acmeEmail": "dac-ops@lsst.ac.uk"},
    "phalanx": {
        "repository": "https://github.com/lsst-uk/phalanx",
        "appOfAppsName": "science-platform",
    },
    "qserv": {
        "image": pinned("image/qserv"),
        "dbImage": pinned("image/qserv-db"),
        "ingestNodeLabel": "tier=utility",
    },
    "buckets": {
        "s3Endpoint": "https://somerville.ed.ac.uk:6780",
        "containers": [{"name": "tap-results"}],
    },
}

_UTILITY = {"tier": "utility"}

PROFILES: dict[Environment, dict[str, Any]] = {
    "sandbox": {
        "cluster": {
            "controlPlane": {"flavor": "m1.large", "count": 1},
            "nodeGroups": [
                {"name": "workers", "flavor": "m1.large", "count": 2, "labels": _UTILITY}
            ],
        },
        "tls": {"issuer": "selfsigned"},
        "vault": {"mode": "dev"},
        "phalanx": {"revision": "main", "autoSync": True},
        "qserv": {
            "enabled": False,
            "czar": {"replicas": 1, "storage": "20Gi"},
            "worker": {"replicas": 1, "storage": "20Gi"},
            "storage": "5Gi",
        },
        "buckets": {"retainByDefault": False},
        "backups": {"enabled": False},
    },
    "dev": {
        "cluster": {
            "controlPlane": {"flavor": "m1.xlarge", "count": 1},
            "nodeGroups": [
                {"name": "general", "flavor": "m1.xlarge", "count": 3},
                {"name": "utility", "flavor": "m1.xlarge", "count": 2, "labels": _UTILITY},
            ],
        },
        "tls": {"issuer": "letsencrypt-staging"},
        "vault": {"mode": "standalone"},
        "phalanx": {"revision": "main", "autoSync": True},
        "qserv": {
            "enabled": True,
            "czar": {"replicas": 1, "storage": "200Gi"},
            "worker": {"replicas": 2, "storage": "500Gi"},
            "storage": "20Gi",
        },
        "buckets": {"retainByDefault": False},
        "backups": {"enabled": False},
    },
    "test": {
        "cluster": {
            "endpoint": "loadbalancer",
            "controlPlane": {"flavor": "m1.xlarge", "count": 3},
            "nodeGroups": [
                {"name": "general", "flavor": "m1.xlarge", "count": 4},
                {"name": "utility", "flavor": "m1.xlarge", "count": 3, "labels": _UTILITY},
            ],
        },
        "tls": {"issuer": "letsencrypt"},
        "vault": {"mode": "standalone"},
        "phalanx": {"revision": "main", "autoSync": True},
        "qserv": {
            "enabled": True,
            "czar": {"replicas": 1, "storage": "500Gi"},
            "worker": {"replicas": 3, "storage": "1Ti"},
            "storage": "50Gi",
        },
        "buckets": {"retainByDefault": False},
        "backups": {"enabled": True},
    },
    "prod": {
        "cluster": {
            "endpoint": "loadbalancer",
            "controlPlane": {"flavor": "m1.xlarge", "count": 3},
            "nodeGroups": [
                {"name": "general", "flavor": "m1.2xlarge", "count": 6},
                {"name": "utility", "flavor": "m1.2xlarge", "count": 10, "labels": _UTILITY},
            ],
        },
        "tls": {"issuer": "letsencrypt"},
        "vault": {"mode": "ha"},
        "phalanx": {"revision": "main", "autoSync": False},
        "qserv": {
            "enabled": True,
            "czar": {"replicas": 1, "storage": "2Ti"},
            "worker": {"replicas": 10, "storage": "4Ti"},
            "storage": "100Gi",
        },
        "buckets": {"retainByDefault": True},
        "backups": {"enabled": True},
    },
}


@dataclass(frozen=True)
class Policy:
    """What an environment may never do, whatever its stack file says."""

    issuers: frozenset[str]
    vault_modes: frozenset[str]
    auto_sync_allowed: bool
    protect_stateful: bool


_ANY_ISSUER = frozenset({"selfsigned", "letsencrypt-staging", "letsencrypt"})
_SERVER_VAULT = frozenset({"standalone", "ha"})

POLICIES: dict[Environment, Policy] = {
    "sandbox": Policy(_ANY_ISSUER, frozenset({"dev", "standalone", "ha"}), True, False),
    "dev": Policy(_ANY_ISSUER, _SERVER_VAULT, True, False),
    "test": Policy(_ANY_ISSUER, _SERVER_VAULT, True, False),
    "prod": Policy(frozenset({"letsencrypt"}), frozenset({"ha"}), False, True),
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`: mappings merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def defaults_for(environment: Environment) -> dict[str, Any]:
    """The full set of defaults of one environment: the site, then its profile."""
    return deep_merge(SITE, PROFILES[environment])
