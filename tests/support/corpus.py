"""A corpus of broken stack files, derived from the project's own stacks.

Each case is (category, name, the file's bytes). Every one must be refused by
`ukdac config check` with exit 2, one error naming a key path or a YAML position, no
traceback, in bounded time. Categories follow the ways files break in practice: encoding,
YAML syntax, YAML bombs and deep nesting, tags, files of other tools, duplicate keys,
coerced types, bad values, and sheer size.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from tests.support.stacks import ROOT, STACKS

Case = tuple[str, str, bytes]
_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR6kw+SbpchLzGRBZepWNMn63BqGHUr/4rq2WS0qWUs "
    "dev@example.org"
)


def _documents() -> dict[str, dict[str, Any]]:
    return {
        stack: yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        for stack in STACKS
    }


def _dump(document: Any) -> bytes:
    return yaml.safe_dump(document, sort_keys=False).encode()


def _set(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy with `ukdac:<first>.<rest>` set (the first part is the namespaced key)."""
    result = copy.deepcopy(document)
    first, *rest = dotted.split(".")
    config = result["config"]
    if not rest:
        config[f"ukdac:{first}"] = value
        return result
    node = config.setdefault(f"ukdac:{first}", {})
    for part in rest[:-1]:
        node = node.setdefault(part, {})
    node[rest[-1]] = value
    return result


def encoding(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    rng = random.Random(1)
    for stack, document in documents.items():
        text = _dump(document)
        for offset in (0, len(text) // 3, len(text) // 2, len(text) - 1):
            yield (
                "encoding",
                f"{stack} invalid UTF-8 at {offset}",
                (text[:offset] + b"\xff\xfe\x80" + text[offset:]),
            )
        yield "encoding", f"{stack} UTF-16", text.decode().encode("utf-16")
        yield (
            "encoding",
            f"{stack} latin-1",
            text.decode().replace("ukdac", "ukdäc").encode("latin-1"),
        )
        yield "encoding", f"{stack} NUL byte", text + b"\x00"
        yield "encoding", f"{stack} random bytes", bytes(rng.randrange(256) for _ in range(512))


def syntax(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    for stack, document in documents.items():
        text = _dump(document).decode()
        yield "syntax", f"{stack} tab indentation", text.replace("  ", "\t").encode()
        yield "syntax", f"{stack} unclosed quote", (text + 'ukdac:fqdn: "open\n').encode()
        yield "syntax", f"{stack} unclosed flow", (text + "  ukdac:x: [1, 2\n").encode()
        yield "syntax", f"{stack} two documents", (text + "---\n" + text).encode()
        yield (
            "syntax",
            f"{stack} bad indentation",
            text.replace("\n  ukdac:", "\n ukdac:", 1).encode(),
        )
        for cut in (0.2, 0.4, 0.6, 0.8):
            # Cut inside a key, as an interrupted write leaves a file.
            # Past the last key, cut inside that key instead: a cut inside a list leaves a
            # shorter list, which can be as valid as the whole one.
            at = (
                text.index("ukdac:", int(len(text) * cut)) + 3
                if "ukdac:" in text[int(len(text) * cut) :]
                else text.rindex("ukdac:") + 3
            )
            yield "syntax", f"{stack} truncated at {cut:.0%}", text[:at].encode()
        yield (
            "syntax",
            f"{stack} stray colon",
            text.replace("ukdac:environment:", "ukdac:environment::").encode(),
        )


def bombs() -> Iterator[Case]:
    for levels in (5, 9, 12):
        lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
        for i in range(1, levels):
            refs = ",".join([f"*a{i - 1}"] * 10)
            lines.append(f"a{i}: &a{i} [{refs}]")
        lines.append(f"config:\n  ukdac:environment: dev\n  ukdac:extra: *a{levels - 1}")
        yield "bomb", f"billion laughs, {levels} levels", "\n".join(lines).encode()
    yield "bomb", "recursive alias", b"config: &c\n  ukdac:loop: *c\n"
    yield "bomb", "self list", b"config:\n  ukdac:cloud: &l [*l]\n"
    for depth in (40, 200, 5_000, 100_000):
        yield (
            "nesting",
            f"lists {depth} deep",
            (b"config:\n  ukdac:cloud: " + b"[" * depth + b"]" * depth + b"\n"),
        )
        yield (
            "nesting",
            f"mappings {depth} deep",
            (b"config:\n  ukdac:cloud: " + b"{a: " * depth + b"1" + b"}" * depth + b"\n"),
        )


def tags(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    dev = _dump(documents["ukdac-dev"]).decode()
    for tag, value in (
        ("!!binary", "aGVsbG8="),
        ("!!set", "{a, b}"),
        ("!!omap", "[{a: 1}]"),
        ("!!pairs", "[{a: 1}]"),
        ("!!python/object:os.system", "{}"),
        ("!!python/name:os.system", "''"),
        ("!Ref", "Something"),
        ("!GetAtt", "a.b"),
        ("!!float", "'1.5'"),
        ("!custom", "x"),
    ):
        for key in ("ukdac:fqdn", "ukdac:extra"):
            yield "tag", f"{tag} at {key}", (dev + f"  {key}: {tag} {value}\n").encode()


def foreign() -> Iterator[Case]:
    workflow = {"name": "ci", "on": {"push": {}}, "jobs": {"t": {"runs-on": "x", "steps": []}}}
    yield "foreign", "a GitHub workflow", yaml.safe_dump(workflow).encode()
    yield "foreign", "a workflow, `on` unquoted", b"name: ci\non: push\njobs: {}\n"
    yield "foreign", "Pulumi.yaml", (ROOT / "Pulumi.yaml").read_bytes()
    yield "foreign", "a compose file", b"services:\n  web:\n    image: nginx\n"
    yield "foreign", "a Kubernetes manifest", b"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"
    yield "foreign", "a JSON array", b'["a", "b"]'
    yield "foreign", "a scalar", b"just text\n"
    yield "foreign", "another project", b"config:\n  other:environment: dev\n  other:fqdn: x.org\n"
    yield "foreign", "keys without namespace", b"config:\n  environment: dev\n"
    yield "foreign", "config a list", b"config:\n  - ukdac:environment\n"
    yield "foreign", "empty config", b"config: {}\n"
    yield "foreign", "empty file", b""
    yield "foreign", "numeric top-level key", b"1: x\nconfig: {}\n"


def duplicates(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    for stack, document in documents.items():
        lines = _dump(document).decode().splitlines()
        for index, line in enumerate(lines):
            stripped = line.lstrip()
            if ":" not in stripped or stripped.startswith("-") or index == 0:
                continue
            duplicated = [*lines[: index + 1], line, *lines[index + 1 :]]
            if not line.rstrip().endswith(":"):  # a scalar entry given twice
                yield "duplicate", f"{stack} line {index + 1} twice", "\n".join(duplicated).encode()
        yield (
            "duplicate",
            f"{stack} environment twice",
            (_dump(document).decode() + "  ukdac:environment: prod\n").encode(),
        )


INTS = ("cluster.bootVolumeSize", "cluster.magnum.createTimeoutMinutes")
BOOLS = (
    "qserv.enabled",
    "buckets.retainByDefault",
    "phalanx.autoSync",
    "cluster.magnum.masterLbEnabled",
)


def types(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    for stack, document in documents.items():
        for key in INTS:
            for value in ("3", "50", True, 3.5, [3], {"n": 3}):
                yield "type", f"{stack} {key}={value!r}", _dump(_set(document, key, value))
        for key in BOOLS:
            for value in ("yes", "no", "true", 1, 0, "on"):
                yield "type", f"{stack} {key}={value!r}", _dump(_set(document, key, value))
        groups = [{"name": "general", "flavor": "m1.large", "count": "3"}]
        yield (
            "type",
            f"{stack} count as string",
            _dump(_set(document, "cluster.nodeGroups", groups)),
        )
        yield "type", f"{stack} fqdn as number", _dump(_set(document, "fqdn", 12345))
        yield "type", f"{stack} cloud as list", _dump(_set(document, "cloud", ["a"]))


def _groups(count: int, size: int) -> list[dict[str, Any]]:
    return [{"name": f"g{i}", "flavor": "m1.large", "count": size} for i in range(count)]


BAD_VALUES: tuple[tuple[str, Any], ...] = (
    ("environment", "staging"),
    ("layers", "platform"),
    ("fqdn", "a" * 64 + ".lsst.ac.uk"),
    ("fqdn", ".".join(["abcdefghij"] * 25) + ".org"),
    ("fqdn", "rsp.lsst.123"),
    ("fqdn", "rsp_dev.lsst.ac.uk"),
    ("vault.url", "https://vault.example.org:99999"),
    ("vault.url", "ftp://vault.example.org"),
    ("vault.pathPrefix", "secret/../other"),
    ("phalanx.revision", "main..evil"),
    ("phalanx.revision", "-rf"),
    ("phalanx.repository", "file:///etc/passwd"),
    ("phalanx.environment", "UPPER"),
    ("buckets.tapBucket", "no-such-bucket"),
    ("buckets.s3Endpoint", "not a url"),
    ("cloud.keypairPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA x\nssh-rsa AAAAB3Nza evil"),
    ("cloud.keypairPublicKey", ""),
    ("cloud.adminCidrs", ["0.0.0.0/1", "128.0.0.0/1"]),
    ("cloud.adminCidrs", ["0.0.0.0/0"]),
    ("cloud.adminCidrs", []),
    ("cloud.adminCidrs", [f"10.{i}.0.0/16" for i in range(40)]),
    ("cloud.dnsNameservers", ["not-an-ip"]),
    ("cloud.applicationCredentialRoles", ["admin"]),
    ("cloud.applicationCredentialRoles", []),
    ("network.nodeCidr", "224.0.0.0/24"),
    ("network.nodeCidr", "127.0.0.0/24"),
    ("network.nodeCidr", "169.254.169.0/24"),
    ("network.nodeCidr", "10.10.0.0/29"),
    ("network.nodeCidr", "10.10.0.1/24"),
    ("network.podCidr", "10.244.0.0/28"),
    ("network.serviceCidr", "10.0.0.0/8"),
    ("network.serviceCidr", "10.96.0.0/30"),
    ("cluster.kubernetesVersion", "1.20.0"),
    ("cluster.kubernetesVersion", "latest"),
    ("cluster.backend", "k3s"),
    ("cluster.cni", "flannel"),
    ("cluster.controlPlane.count", 2),
    ("cluster.controlPlane.count", 0),
    ("cluster.nodeGroups", []),
    ("cluster.nodeGroups", _groups(1, -1)),
    ("cluster.nodeGroups", _groups(1, 10_000)),
    ("cluster.nodeGroups", _groups(20_000, 1)),
    ("cluster.nodeGroups", _groups(20, 100)),
    ("cluster.nodeGroups", [{"name": "control-plane", "flavor": "m1.large", "count": 1}]),
    ("cluster.nodeGroups", [{"name": "Bad Name", "flavor": "m1.large", "count": 1}]),
    ("cluster.nodeGroups", _groups(2, 1)[:1] * 2),
    (
        "cluster.nodeGroups",
        [{"name": "g", "flavor": "f", "count": 1, "labels": {"kubernetes.io/role": "x"}}],
    ),
    ("cluster.nodeGroups", [{"name": "g", "flavor": "f", "count": 1, "colour": "red"}]),
    ("tls.issuer", "made-up"),
    ("tls.solver", "dns01"),
    ("qserv.czar.replicas", 0),
    ("qserv.worker.storage", "lots"),
    ("qserv.ingestNodeLabel", "no-equals-sign"),
    ("buckets.containers", [{"name": "Bad_Name"}]),
    ("buckets.containers", [{"name": f"b{i}"} for i in range(40)]),
    ("sandbox", {"owner": "", "expires": "soon"}),
    ("clouds", {"name": "misspelt"}),
    ("tls.dns01", {"nameserver": "x", "tsigKeyName": "k", "tsigSecret": {"secure": ""}}),
    # Accepted before though invalid (the consumer-findings issue), and neighbours of each:
    ("vault.url", "https://999.1.1.1"),
    ("vault.url", "https://10.1.1"),
    ("buckets.s3Endpoint", "https://300.2.3.4:6780"),
    ("vault.pathPrefix", "secret//phalanx"),
    ("vault.pathPrefix", "secret/phalanx/"),
    ("vault.pathPrefix", "/secret/phalanx"),
    ("cloud.keypairPublicKey", f"{_KEY}\n{_KEY}"),
    ("cloud.keypairPublicKey", f"{_KEY}\r\n{_KEY}"),
    ("cloud.dnsNameservers", ["0.0.0.0"]),
    ("cloud.dnsNameservers", ["1.1.1.1", "127.0.0.53"]),
    ("cloud.dnsNameservers", ["255.255.255.255"]),
    ("cloud.dnsNameservers", ["239.1.1.1"]),
    ("cloud.dnsNameservers", ["10.96.0.10"]),  # the cluster's own DNS service
    ("cloud.dnsNameservers", ["8.8.8.8", "10.244.3.2"]),  # a pod address
    (
        "tls",
        {
            "issuer": "letsencrypt",
            "acmeEmail": "a@b.org",
            "solver": "dns01",
            "dns01": {
                "nameserver": "192.0.2.1:53",
                "tsigKeyName": "k",
                "tsigSecret": {"secure": ""},
            },
        },
    ),
)


def values(documents: dict[str, dict[str, Any]]) -> Iterator[Case]:
    for stack, document in documents.items():
        for key, value in BAD_VALUES:
            shown = json.dumps(value)[:40]
            yield "value", f"{stack} {key}={shown}", _dump(_set(document, key, value))
        if document["config"].get("ukdac:environment") == "sandbox":
            for cidr in ("10.10.0.0/24", "10.21.0.0/24", "10.0.0.0/8"):
                outside = _set(document, "network.nodeCidr", cidr)
                yield "value", f"{stack} sandbox outside the pool {cidr}", _dump(outside)
        for salt in (
            "v1:not base64:v1:x:y",
            "v2:AAAA:v1:AAAA:AAAA",
            "v1:AAAA",
            "",
            "v1:AA=A:v1:A:A",
        ):
            yield (
                "value",
                f"{stack} encryptionsalt {salt!r}",
                _dump({**document, "encryptionsalt": salt}),
            )
        yield (
            "value",
            f"{stack} missing fqdn",
            _dump({"config": {k: v for k, v in document["config"].items() if k != "ukdac:fqdn"}}),
        )
        yield (
            "value",
            f"{stack} secret in plain text",
            _dump(
                _set(
                    document,
                    "tls",
                    {
                        "solver": "dns01",
                        "issuer": "letsencrypt",
                        "acmeEmail": "a@b.org",
                        "dns01": {
                            "nameserver": "192.0.2.1:53",
                            "tsigKeyName": "k",
                            "tsigSecret": "plain",
                        },
                    },
                )
            ),
        )


def size() -> Iterator[Case]:
    filler = "# " + "x" * 1000 + "\n"
    yield (
        "size",
        "300 KiB of comments",
        (b"config:\n  ukdac:environment: dev\n" + filler.encode() * 300),
    )
    yield "size", "a 1 MiB string", b"config:\n  ukdac:fqdn: " + b"a" * (1024 * 1024) + b"\n"


GENERATORS: tuple[Callable[..., Iterator[Case]], ...] = (
    encoding,
    syntax,
    tags,
    duplicates,
    types,
    values,
)


def corpus() -> list[Case]:
    documents = _documents()
    cases = [case for generator in GENERATORS for case in generator(documents)]
    cases += [*bombs(), *foreign(), *size()]
    return cases
