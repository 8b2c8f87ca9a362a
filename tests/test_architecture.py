"""The shape of the code: no import cycle among the project's modules, no oversized module.

The import graph is read from the source with `ast`, imports inside functions
included (they hide a cycle from Python, not from the design). Imports under
`if TYPE_CHECKING:` are left out: they never run (annotations are strings here,
`from __future__ import annotations`), so they cannot make a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "invoices", "customers", "stripe_sim")
MAX_LINES = 400


def source_files() -> dict[str, Path]:
    """Module name -> file, for every project module outside migrations and tests."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts or "tests" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = source_files()

    def resolve(name: str) -> str | None:
        # The module itself, else the nearest package that is one of ours.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from invoices import live` names a module; `from x import name` its package.
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else resolve(base))
        graph[module] = {target for target in targets if target and target != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_it_finds_every_package():
    graph = import_graph()
    assert {module.split(".")[0] for module in graph} == set(PACKAGES)
    # Function-level imports count: the app config imports the live pages inside `ready()`.
    assert "invoices.pay.live" in graph["invoices.apps"]


def test_it_detects_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_it_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_domain_never_imports_a_page():
    """Services and payments announce changes; pages subscribe (`invoices.activity`)."""
    graph = import_graph()
    pages = {m for m in graph if m.startswith(("invoices.staff.", "invoices.pay."))}
    assert pages
    domain_modules = ["invoices.activity", "invoices.services", "invoices.models"]
    domain_modules += [m for m in graph if m.startswith("invoices.payments.")]
    for domain in domain_modules:
        assert not graph[domain] & pages, domain


def test_no_module_is_over_400_lines():
    long = {
        module: count
        for module, path in source_files().items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _function_level_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [n for n in _imports(function) if n not in found]
    return found


def test_an_import_inside_a_function_in_invoices_says_why():
    """A function-level import hides a dependency; where one is needed, a comment says why."""
    unexplained = []
    for module, path in source_files().items():
        if not module.startswith("invoices"):
            continue
        lines = path.read_text().splitlines()
        for node in _function_level_imports(ast.parse("\n".join(lines))):
            # The comment may head a block of such imports.
            above = node.lineno - 2
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                above -= 1
            explained = above >= 0 and lines[above].strip().startswith("#")
            if "#" not in lines[node.lineno - 1] and not explained:
                unexplained.append(f"{module}:{node.lineno}")
    assert unexplained == []
