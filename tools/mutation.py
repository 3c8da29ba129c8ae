"""Mutation testing of the core modules: does the suite notice when the code is wrong?

    python tools/mutation.py [--sample N] [--seed S] [MODULE ...]     (make mutation)

For each module in MODULES, every mutation point is found in its syntax tree (a comparison
flipped, a boolean operator swapped, a constant changed, a statement removed, a return
emptied); a fixed-seed sample of them is applied one at a time, and the module's tests run
against each mutant. A mutant that no test fails on survives. Mutants listed in
`tests/mutation/equivalent.txt` (they change nothing observable, each with its reason) are
left out of the score. Prose (messages for people), type annotations, `Literal[...]` and
decorator arguments are not mutated. The report goes to stdout and `mutation-report.md`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
REPORT = ROOT / "mutation-report.md"

# The reviewed plans notice any change of any input (tests/program/test_golden.py).
GOLDEN = "tests/program/test_golden.py"
# Module -> the tests that should notice a change to it.
MODULES: dict[str, tuple[str, ...]] = {
    "infra/stack/rules.py": ("tests/stack/test_validation.py",),
    "infra/stack/validation.py": (
        "tests/stack/test_validation.py",
        "tests/stack/test_files.py",
        "tests/cli/test_cli.py",
    ),
    "components/openstack/security_rules.py": (
        "tests/program/test_security_table.py",
        "tests/components/test_openstack.py",
        GOLDEN,
    ),
    "components/openstack/security_groups.py": (
        "tests/program/test_security_table.py",
        "tests/components/test_openstack.py",
        GOLDEN,
    ),
    "components/kubeadm/cloud_init.py": (
        "tests/program/test_user_data.py",
        "tests/program/test_cloud_layer.py",
        "tests/components/test_openstack.py",
        GOLDEN,
    ),
    "components/kubeadm/documents.py": (
        "tests/program/test_user_data.py",
        "tests/program/test_cloud_layer.py",
        "tests/components/test_openstack.py",
        GOLDEN,
    ),
    "infra/plan/diff.py": ("tests/plan", "tests/cli/test_cli.py"),
    "policies/rules.py": ("tests/policies",),
    "infra/stack/phalanx.py": (
        "tests/program/test_platform_layer.py::test_phalanx_values_turn_off_what_ukdac_owns",
        "tests/program/test_platform_layer.py::test_tap_uses_the_named_bucket_or_none",
        "tests/cli/test_cli.py::test_phalanx_values_writes_the_environment_file",
        "tests/cli/test_cli.py::test_secrets_lists_vault_paths_masked_and_show_needs_the_cli",
        GOLDEN,
    ),
    # The writer that merges ukdac's keys into a phalanx fork.
    "infra/ops/phalanx_checkout.py": (
        "tests/ops/test_phalanx_checkout.py",
        "tests/cli/test_cli.py::test_phalanx_values_writes_the_environment_file",
    ),
    # Clean-up and preflight are proved against the real test cloud (tests/cloud); their
    # unit tests cover the arithmetic and the attribution rules only.
    "infra/ops/cleanup.py": ("tests/ops",),
    "infra/ops/preflight.py": ("tests/ops",),
    # Day two: the snapshots, the allowances that lift protection, the API balancer.
    "components/kubernetes/snapshots.py": (
        "tests/components/test_snapshots.py",
        "tests/program/test_backups.py",
        GOLDEN,
    ),
    "infra/program/allowances.py": (
        "tests/program/test_node_lifecycle.py::test_an_allowed_change_unprotects_exactly_its_resource_and_the_policy_lets_it_through",
        "tests/program/test_node_lifecycle.py::test_an_allowance_that_names_nothing_protected_says_so",
    ),
    "components/openstack/load_balancer.py": ("tests/program/test_entry_point.py", GOLDEN),
}

_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # which mutation point, in tree-walk order
    line: int
    column: int
    description: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}:{self.column}:{self.description}"


def _prose(text: str) -> bool:
    """Words for people (messages, descriptions): changing them changes no behaviour."""
    return bool(re.search(r"\s", text) and re.search(r"[A-Za-z]", text)) or (
        text.strip(" ,.;:") == ""
    )


def _not_behaviour(tree: ast.AST) -> set[int]:
    """Nodes that only describe types or decorate: annotations, `Literal[...]`, decorators."""
    found: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            found.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                mark(decorator)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
            for argument in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                mark(argument.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("Literal", "Annotated")
        ):
            mark(node)
    return found


def _points(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every node that can be mutated, with what the mutation does."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    skipped = _not_behaviour(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIPS:
            yield node, f"flip {type(node.ops[0]).__name__}"
        elif isinstance(node, ast.BoolOp):
            yield node, f"swap {type(node.op).__name__}"
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, bool):
                yield node, f"negate {node.value}"
            elif isinstance(node.value, int):
                yield node, f"change {node.value}"
            elif isinstance(node.value, str) and node.value and not _prose(node.value):
                yield node, f"change {node.value[:30]!r}"
        elif isinstance(node, ast.If | ast.For | ast.Assign | ast.Expr | ast.AugAssign):
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                yield node, "remove statement"
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            yield node, "return None"


def _apply(node: ast.AST, description: str) -> None:
    if isinstance(node, ast.Compare):
        node.ops[0] = _FLIPS[type(node.ops[0])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            node.value = not node.value
        elif isinstance(node.value, int):
            node.value = node.value + 1
        else:
            node.value = str(node.value) + "~"
    elif isinstance(node, ast.Return):
        node.value = None


def _remove(tree: ast.AST, statement: ast.AST) -> None:
    """Replace `statement` by `pass` in whichever body holds it."""
    for parent in ast.walk(tree):
        for _, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if child is statement:
                        value[index] = ast.Pass()
                        return


def mutants(module: str) -> list[Mutant]:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    return [
        Mutant(
            module, index, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), description
        )
        for index, (node, description) in enumerate(_points(tree))
    ]


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.module).read_text(encoding="utf-8"))
    work = copy.deepcopy(tree)
    for index, (node, description) in enumerate(_points(work)):
        if index == mutant.index:
            if description == "remove statement":
                _remove(work, node)
            else:
                _apply(node, description)
            break
    ast.fix_missing_locations(work)
    return ast.unparse(work)


def survives(mutant: Mutant) -> bool:
    path = ROOT / mutant.module
    original = path.read_text(encoding="utf-8")
    try:
        source = mutated_source(mutant)
        compile(source, str(path), "exec")
    except (SyntaxError, ValueError, TypeError):
        return False  # not a valid program: nothing to test
    path.write_text(source, encoding="utf-8")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-m",
                "not cloud and not upstream",
                *MODULES[mutant.module],
            ],
            cwd=ROOT,
            capture_output=True,
            timeout=600,
            check=False,
        )
        return result.returncode == 0
    except subprocess.TimeoutExpired:
        return False  # a hang is noticed
    finally:
        path.write_text(original, encoding="utf-8")


def _equivalents() -> dict[str, str]:
    found = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, reason = line.partition(" # ")
                found[key.strip()] = reason.strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    equivalent = _equivalents()
    lines = ["# Mutation report", "", "| module | mutants | equivalent | killed | score |"]
    lines.append("|---|---:|---:|---:|---:|")
    details: list[str] = []
    for module in args.modules:
        every = mutants(module)
        sample = random.Random(args.seed)  # noqa: S311 (a fixed-seed sample, not a secret)
        chosen = sample.sample(every, min(args.sample, len(every)))
        start = time.perf_counter()
        survivors = [m for m in chosen if m.key not in equivalent and survives(m)]
        judged = [m for m in chosen if m.key not in equivalent]
        killed = len(judged) - len(survivors)
        score = 100.0 * killed / len(judged) if judged else 100.0
        took = time.perf_counter() - start
        lines.append(
            f"| `{module}` | {len(chosen)} of {len(every)} | {len(chosen) - len(judged)} "
            f"| {killed} | {score:.0f}% |"
        )
        print(f"{module}: {killed}/{len(judged)} killed ({score:.0f}%) in {took:.0f} s", flush=True)
        for mutant in survivors:
            details.append(f"- survived: `{mutant.key}`")
            print(f"  survived: {mutant.key}", flush=True)
    text = "\n".join([*lines, "", *details]) + "\n"
    REPORT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
