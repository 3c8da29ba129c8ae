"""Operations against real systems, each behind one adapter.

`cloud` wraps openstacksdk (retries, one-line errors); `pulumi_cli` the Pulumi CLI;
`footprint` and `holdings` count what a plan needs and what a project already holds;
`preflight`, `cleanup` and `sandbox` are the operations built on them (the sandbox
template is in `templates/`). May import `infra.stack`, `infra.plan` and `infra.errors`.
"""
