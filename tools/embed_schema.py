"""What a Pulumi provider's generate step does before `go build`: the files its main embeds.

    python3 tools/embed_schema.py FOLDER VERSION

FOLDER is the provider's `cmd/pulumi-resource-NAME`: its `schema.json` is written to
`schema-embed.json` with `version` set, and its `terraform-mapping.json`, where it has one, to
`terraform-mapping-embed.json`. Standard library only: it runs before the project's venv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    folder, version = Path(sys.argv[1]), sys.argv[2]
    schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    schema["version"] = version
    (folder / "schema-embed.json").write_text(json.dumps(schema), encoding="utf-8")
    mapping = folder / "terraform-mapping.json"
    if mapping.is_file():
        content = json.loads(mapping.read_text(encoding="utf-8"))
        (folder / "terraform-mapping-embed.json").write_text(json.dumps(content), encoding="utf-8")


if __name__ == "__main__":
    main()
