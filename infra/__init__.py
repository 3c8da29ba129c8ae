"""ukdac: the LSST:UK Data Access Centre's deployment, one folder per role.

- `stack/`: stack files, the config model, profiles, rules, validation, and the derived
  `Deployment` (every name, hostname and path). Imports nothing else of `infra`.
- `program/`: the Pulumi program (layers and exports). Imports `stack/` and `components/`.
- `plan/`: the offline engine and its fakes, plans, diffs, rendering, other git revisions.
  Imports `stack/`.
- `ops/`: adapters to OpenStack and the Pulumi CLI, and the operations built on them
  (preflight, clean-up, sandboxes). Imports `stack/` and `plan/`.
- `cli/`: the `ukdac` command line; calls the public functions of the others.

Only what every role needs sits here: `errors.py` (user-facing errors) and `versions.py`
(every pinned version, with its source).
"""
