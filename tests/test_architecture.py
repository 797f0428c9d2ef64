"""The house rules of ARCHITECTURE.md, measured from the code: layers, no import cycles, sizes, tests.

Run it alone with ``.venv/bin/python -m pytest tests/test_architecture.py``; ``python
tests/test_architecture.py`` prints the module graph's cycles and the largest functions.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bayes_scaling"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # lines of code: the docstring is not counted
#: Modules whose tests live in a shared file (all plots in one, the two private compile-cache modules).
SHARED_TESTS = {"plots/*": "plots/test_plots.py", "pymc_model/_compile_source": "pymc_model/test_compile_cache.py",
                "report/context": "report/test_context.py", "cli/commands": "cli/test_commands.py",
                "api": "test_api.py", "cli/__main__": "cli/test_commands.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import node, in functions too, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a submodule import also runs its parent packages)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in _imports(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):  # the module and every package above it
                    prefix = ".".join(parts[:i])
                    if prefix in mods and prefix != name and not name.startswith(prefix + "."):
                        graph[name].add(prefix)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def long_functions() -> list[tuple[str, str, int]]:
    out = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                        and isinstance(first.value.value, str):
                    lines -= first.end_lineno - first.lineno + 1
                out.append((name, node.name, lines))
    return sorted(out, key=lambda t: -t[2])


# ----------------------------------------------------------------------------- the rules
def test_no_import_cycles_between_modules():
    found = cycles(import_graph())
    assert not found, f"import cycles (TYPE_CHECKING imports ignored, imports in functions counted): {found}"


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_layers_contract_names_every_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    subpackages = {f"bayes_scaling.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    top_modules = {f"bayes_scaling.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert set(contract["layers"]) == subpackages | top_modules


def test_lint_imports_keeps_the_layers():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("import-linter is not installed (scripts/bootstrap.sh test installs it)")
        pytest.skip("import-linter is not installed: scripts/bootstrap.sh test")
    result = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_no_module_over_400_lines():
    big = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    assert not {n: k for n, k in big.items() if k > MAX_MODULE_LINES}


def test_no_function_over_60_lines_of_code():
    assert not [f for f in long_functions() if f[2] > MAX_FUNCTION_LINES]


def test_every_module_has_a_test_file():
    missing = []
    for name, path in modules().items():
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.name == "__init__":
            continue
        key = rel.as_posix()
        shared = SHARED_TESTS.get(key) or SHARED_TESTS.get(f"{rel.parent.as_posix()}/*")
        candidates = [Path(shared)] if shared else [rel.parent / f"test_{rel.name.lstrip('_')}.py"]
        if not any((ROOT / "tests" / c).is_file() for c in candidates):
            missing.append(f"{name} (tests/{candidates[0]})")
    assert not missing, missing


if __name__ == "__main__":
    print("cycles:", cycles(import_graph()) or "none")
    print("largest functions (lines of code):")
    for mod, func, n in long_functions()[:10]:
        print(f"  {n:4d}  {mod}.{func}")
