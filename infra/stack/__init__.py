"""A stack's configuration, from file to `Deployment`.

`files` reads `Pulumi.yaml` and stack files; `model` is the pydantic schema; `profiles`
the per-environment defaults; `rules` the cross-field rules; `validation` checks raw values
against all three and reports every problem at once; `deployment` derives every physical
name, hostname, tag and path; `runtime` reads the config inside a running Pulumi program;
`schema` and `reference` generate the JSON Schema and docs/configuration.md; `phalanx` the
values phalanx gets. May import `infra.errors` and `infra.versions` only.
"""
