"""Entry point of the Pulumi program (`main: infra/program/` in Pulumi.yaml)."""

import pulumi

from infra.errors import UkdacError
from infra.program.build import build
from infra.stack.runtime import deployment_from_runtime

try:
    deployment = deployment_from_runtime()
except UkdacError as error:
    # RunError prints the message without a traceback: the message says what to fix.
    raise pulumi.RunError(str(error)) from None

build(deployment)
