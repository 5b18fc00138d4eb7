"""The project's layers import in one direction, and no project module takes part in a cycle.

Read from the source (every import statement, also inside functions), so a cycle hidden by a
function-local import fails here as surely as one at the top of a file. The layers, bottom up,
are the README's architecture section.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "models", "handlers", "scheduler")

# Bottom up; a module may import its own layer and those below. The most specific prefix wins.
LAYERS: dict[str, int] = {
    "bot.core": 0,        # foundations: no Telegram, no database
    "models": 1,          # tables, queries, the rules of a save
    "bot.telegram": 2,    # Telegram plumbing shared by handlers and jobs
    "handlers": 3,        # conversations and commands
    "scheduler": 3,       # reminder sweep and broadcast outbox
    "bot": 4,             # the shell: wiring, CLI, serve, demo, local Bot API server
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> int:
    best = max((prefix for prefix in LAYERS
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return LAYERS[best]


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (``bot.core.parsing.mask_numbers`` →
    ``bot.core.parsing``), or None for a name outside the project."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str) -> dict[str, bool]:
    """Project modules ``module`` imports, each with True when the import runs (not only
    under TYPE_CHECKING)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, bool] = {}

    def visit(node: ast.AST, runs: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, runs)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found[target] = found.get(target, False) or runs
        for child in ast.iter_child_nodes(node):
            visit(child, runs)

    visit(tree, True)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_the_layer_map_covers_every_module():
    assert MODULES, "no project modules found"
    for module in MODULES:
        assert layer_of(module) in range(5), module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str):
    upward = sorted(target for target in GRAPH[module]
                    if layer_of(target) > layer_of(module))
    assert not upward, (f"{module} (layer {layer_of(module)}) imports "
                        + ", ".join(f"{t} (layer {layer_of(t)})" for t in upward))


# What a layer may not know of, beyond the project's own modules: the foundations know neither
# Telegram nor the database, and the records do not know Telegram.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "bot.core": ("telegram", "sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg", "alembic"),
    "models": ("telegram",),
}


def third_party_imports(module: str) -> set[str]:
    """Top-level names of the packages outside the project that ``module`` imports."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found - set(PACKAGES)


@pytest.mark.parametrize("module", sorted(m for m in MODULES
                                          if any(m == p or m.startswith(p + ".")
                                                 for p in FORBIDDEN)))
def test_lower_layers_know_neither_telegram_nor_what_they_may_not(module: str):
    prefix = next(p for p in FORBIDDEN if module == p or module.startswith(p + "."))
    wrong = sorted(third_party_imports(module) & set(FORBIDDEN[prefix]))
    assert not wrong, f"{module} imports {', '.join(wrong)}"


def _cycle_from(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    """A path start → … → start, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for target in sorted(edges.get(node, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_no_import_cycles():
    edges = {module: {t for t, runs in targets.items() if runs}
             for module, targets in GRAPH.items()}
    cycles = []
    for module in sorted(edges):
        cycle = _cycle_from(module, edges)
        if cycle and not any(set(cycle) == set(known) for known in cycles):
            cycles.append(cycle)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_checks_catch_what_they_claim():
    """The helpers above see a function-local import and a cycle through it."""
    assert layer_of("bot.core.parsing") == 0 and layer_of("bot.cli") == 4
    assert layer_of("bot.telegram.context") == 2
    fake = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle_from("a", fake) == ["a", "b", "c", "a"]
    assert _cycle_from("d", fake) is None
    assert "telegram" in third_party_imports("bot.telegram.context")
    assert "sqlalchemy" in third_party_imports("models.tables")
