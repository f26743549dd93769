"""The layering rules of docs/architecture.md ("What may import what"), checked on every
module's imports as `ast` reads them: the rooms each room may import, one third-party
library per module, no import cycles, no submodule importing from its own package's
`__init__`. The rules are read from the document itself, so the two cannot drift apart.

The checks are also run on small hand-made import graphs, so that each one is seen to fail
when its rule breaks."""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


# --- reading the rules ------------------------------------------------------------------------------

def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 3)
    return text[start:end if end >= 0 else None]


def _tables(section: str) -> list[list[tuple[str, str]]]:
    """Every two-column Markdown table of the section, as (left cell, right cell) rows."""
    tables, rows = [], []
    for line in section.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 2 and not set(cells[0]) <= set("-: "):
                rows.append((cells[0], cells[1]))
        elif rows:
            tables.append(rows[1:])  # without the header
            rows = []
    return tables


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def read_rules(text: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({room: rooms it may import}, {third-party library: modules or rooms it may be in})."""
    rooms_table, libraries_table = _tables(_section(text, "What may import what"))
    allowed: dict[str, set[str]] = {}
    for left, right in rooms_table:
        for room in _names(left):
            assert room not in allowed, f"{room} has two rows in docs/architecture.md"
            allowed[room] = set() if right.startswith("nothing") else set(_names(right))
    libraries = {lib: set(_names(right)) for left, right in libraries_table for lib in _names(left)}
    return allowed, libraries


# --- reading the imports --------------------------------------------------------------------------

@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. pipeline.dedupe.cluster
    target: str  # the module imported, e.g. pipeline.dedupe.engine, or numpy
    names: tuple[str, ...]  # what `from target import ...` takes; () for `import target`
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path, text: str | None = None) -> list[Import]:
    """The imports of the module at `path` (of `text` as if it were there, when given)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8") if text is None else text)
    skip = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [Import(module, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "__future__":
                continue
            names = tuple(a.name for a in node.names)
            # `from . import x` where x is a submodule imports the submodule, not the __init__
            subs = [n for n in names if _is_module(f"{target}.{n}")]
            if subs:
                out += [Import(module, f"{target}.{n}", (), node.lineno) for n in subs]
            rest = tuple(n for n in names if n not in subs)
            if rest:
                out.append(Import(module, target, rest, node.lineno))
    return out


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_imports() -> list[Import]:
    return [i for path in sorted(PACKAGE.rglob("*.py")) for i in imports_of(path)]


def room(module: str) -> str | None:
    """pipeline.dedupe.engine -> dedupe; pipeline.core -> core; pipeline -> None (the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _is_version(imp: Import) -> bool:
    return imp.target == "pipeline" and imp.names == ("__version__",)


# --- the checks (each returns the broken rules it finds) --------------------------------------------

def room_violations(imports: list[Import], allowed: dict[str, set[str]]) -> list[str]:
    out = []
    for imp in imports:
        if not imp.target.startswith("pipeline") or _is_version(imp):
            continue
        src, dst = room(imp.module), room(imp.target)
        if src is None:
            continue  # the root's lazy re-export of the API
        if src not in allowed:
            out.append(f"{imp.module}: its room {src!r} has no row in docs/architecture.md")
        elif dst is None:
            out.append(f"{imp.module}:{imp.line} imports {imp.names} from the package root (only __version__ may be)")
        elif dst != src and dst not in allowed[src]:
            out.append(f"{imp.module}:{imp.line} imports {imp.target}, but {src!r} may import only "
                       f"{sorted(allowed[src]) or 'nothing'} (docs/architecture.md)")
    return out


def library_violations(imports: list[Import], libraries: dict[str, set[str]]) -> list[str]:
    out = []
    for imp in imports:
        lib = imp.target.split(".")[0]
        if lib not in libraries:
            continue
        short = imp.module.removeprefix("pipeline.")
        if not any(short == where or short.startswith(where + ".") for where in libraries[lib]):
            out.append(f"{imp.module}:{imp.line} imports {lib}, which belongs only in {sorted(libraries[lib])}")
    return out


def init_violations(imports: list[Import]) -> list[str]:
    """A submodule importing names from its own package's __init__ (or one above it)."""
    out = []
    for imp in imports:
        if not imp.names or _is_version(imp) or not imp.target.startswith("pipeline"):
            continue
        owner = imp.module.rpartition(".")[0]  # the package the importing module sits in
        if imp.target != imp.module and (owner == imp.target or owner.startswith(imp.target + ".")) \
                and imp.target != "pipeline":
            out.append(f"{imp.module}:{imp.line} imports {imp.names} from its own package's __init__ "
                       f"({imp.target}); import the module that defines them")
    return out


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module in the package's import graph."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target.startswith("pipeline") and not _is_version(imp) and imp.module != "pipeline":
            graph.setdefault(imp.module, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- the package as it is ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules():
    return read_rules(ARCHITECTURE.read_text("utf-8"))


@pytest.fixture(scope="module")
def imports():
    return all_imports()


def test_every_room_has_a_rule(rules):
    allowed, _ = rules
    rooms = {room(module_name(p)) for p in PACKAGE.rglob("*.py")} - {None}
    assert rooms <= set(allowed), f"rooms without a row in docs/architecture.md: {sorted(rooms - set(allowed))}"
    assert set(allowed) <= rooms, f"rows for rooms that do not exist: {sorted(set(allowed) - rooms)}"


def test_rooms_import_only_what_architecture_md_allows(rules, imports):
    assert room_violations(imports, rules[0]) == []


def test_only_the_api_calls_the_orchestrator_and_the_cli_only_the_api(rules, imports):
    allowed, _ = rules
    assert [r for r, may in allowed.items() if "orchestrator" in may] == ["core"]
    for cli in ("cli", "cli_base", "cli_research", "cli_review", "cli_desk"):
        # besides the API: the process side of a command (signals: `control`; log lines on
        # stderr: `logs`), terminal-safe text and the desk's web app; none of them is a stage of the pipeline
        assert allowed[cli] <= {"types", "errors", "safetext", "core", "demo", "desk", "control", "logs", "cli",
                                "cli_base", "cli_research", "cli_review", "cli_desk"}, cli
    # the desk is a face like the CLI: the API, never the store, the orchestrator or a stage
    assert allowed["desk"] <= {"types", "errors", "safetext", "browse", "publish", "core"}
    assert {i.target for i in imports if i.target.startswith("pipeline.orchestrator")} and \
        {i.module for i in imports if i.target == "pipeline.orchestrator"} == {"pipeline.core"}


def test_each_third_party_library_stays_in_its_module(rules, imports):
    assert library_violations(imports, rules[1]) == []


def test_no_submodule_imports_from_its_package_init(imports):
    assert init_violations(imports) == []


def test_no_import_cycles(imports):
    assert cycles(imports) == []


# --- the checks fail when a rule breaks ---------------------------------------------------------------

def _imp(module: str, target: str, *names: str) -> Import:
    return Import(module, target, tuple(names), 1)


def test_the_checks_catch_what_they_are_for(rules):
    allowed, libraries = rules
    # the CLI reaching past the API, a pure stage opening the database
    assert room_violations([_imp("pipeline.cli", "pipeline.orchestrator")], allowed)
    assert room_violations([_imp("pipeline.extract._article", "pipeline.store", "Store")], allowed)
    assert room_violations([_imp("pipeline.nosuchroom", "pipeline.types")], allowed)
    assert not room_violations([_imp("pipeline.core", "pipeline.orchestrator")], allowed)
    assert not room_violations([_imp("pipeline.fetch", "pipeline", "__version__")], allowed)
    # SQLAlchemy outside the store
    assert library_violations([_imp("pipeline.core", "sqlalchemy", "select")], libraries)
    assert not library_violations([_imp("pipeline.store._runs", "sqlalchemy", "select")], libraries)
    # dedupe/features.py taking a name from dedupe/__init__.py
    assert init_violations([_imp("pipeline.dedupe.features", "pipeline.dedupe", "CLAIM_SETTINGS")])
    assert not init_violations([_imp("pipeline.dedupe.features", "pipeline.dedupe.settings", "CLAIM_SETTINGS")])
    # the two cycles issue 18 found
    assert cycles([_imp("pipeline.cli", "pipeline.cli_review"), _imp("pipeline.cli_review", "pipeline.cli")])
    assert cycles([_imp("pipeline.dedupe.engine", "pipeline.dedupe.features"),
                   _imp("pipeline.dedupe.features", "pipeline.dedupe.engine")])
    assert not cycles([_imp("pipeline.a", "pipeline.b"), _imp("pipeline.b", "pipeline.c")])


def test_imports_under_type_checking_are_left_out_and_inside_functions_are_read():
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from ..store import Store\n"
              "def f():\n    from ..orchestrator import run_sources\n")
    targets = {i.target for i in imports_of(PACKAGE / "extract" / "_probe.py", source)}
    assert "pipeline.orchestrator" in targets and "pipeline.store" not in targets
