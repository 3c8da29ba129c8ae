"""The Pulumi program: `__main__` (Pulumi.yaml's `main`) validates the stack's config and
`build` wires the OpenStack layer (`cloud_layer`) and the Kubernetes layer
(`platform_layer`) from the `Deployment`, then exports the outputs.

May import `infra.stack`, `infra.versions` and `components`; never reads `pulumi.Config`
outside `infra.stack.runtime`.
"""
