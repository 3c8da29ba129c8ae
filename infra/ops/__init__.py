"""Operations against real systems, each behind one adapter.

`cloud` wraps openstacksdk (retries, one-line errors); `pulumi_cli` the Pulumi CLI;
`holdings` counts what a project already holds of a plan (`infra.plan.footprint`);
`preflight`, `cleanup` and `sandbox` are the operations built on them (the sandbox
template is in `templates/`). May import `infra.stack`, `infra.plan` and `infra.errors`.
"""
