"""Entry point of the Pulumi program (`main: infra/` in Pulumi.yaml)."""

import pulumi

from infra.errors import UkdacError
from infra.program import build
from infra.runtime_config import deployment_from_runtime

try:
    deployment = deployment_from_runtime()
except UkdacError as error:
    # RunError prints the message without a traceback: the message says what to fix.
    raise pulumi.RunError(str(error)) from None

build(deployment)
