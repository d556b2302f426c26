"""The one-way import rule, read from the code: bot (front door) → handlers → engine and domain → storage and
messages; channels sit beside the front door. Every module's imports are walked with ``ast`` (including those
inside functions and under TYPE_CHECKING), so a back-edge fails here before it reaches a review.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "messages")
FRONT_DOOR = {"bot", "bot.__main__", "bot.cli", "bot.app", "bot.demo", "bot.demo_web"}


@dataclass(frozen=True)
class Edge:
    """One import: the importing module, the imported module, and where."""

    source: str
    target: str
    line: int


def layer(module: str) -> str:
    """The layer a project module belongs to, or "external" for everything else."""
    parts = module.split(".")
    if parts[0] == "bot":
        if module in FRONT_DOOR:
            return "front"
        if len(parts) > 1 and parts[1] in ("engine", "domain", "reports", "channels", "web", "sandbox"):
            return parts[1]
        return "bot-unplaced"
    if parts[0] in ("handlers", "storage", "messages"):
        return parts[0]
    return "external"


# What each layer must never import. Engine, domain and reports form one tier beneath the handlers.
FORBIDDEN: dict[str, set[str]] = {
    "front": set(),
    "channels": {"front", "handlers", "sandbox", "web"},
    # The web server beside the channels: it serves the routes they hand it and reads the engine and storage.
    "web": {"front", "handlers", "sandbox", "channels", "domain", "reports"},
    "sandbox": {"front", "channels", "web", "handlers", "engine", "domain", "reports", "storage", "messages"},
    "handlers": {"front", "channels", "sandbox", "storage"},
    "engine": {"front", "channels", "web", "sandbox", "handlers"},
    "domain": {"front", "channels", "web", "sandbox", "handlers"},
    "reports": {"front", "channels", "web", "sandbox", "handlers"},
    "storage": {"front", "channels", "web", "sandbox", "handlers", "engine", "domain", "reports"},
    "messages": {"front", "channels", "web", "sandbox", "handlers", "engine", "domain", "reports"},
}
# Only channels (and the front door) speak a platform's library or HTTP; the sandbox is a server of its own.
PLATFORM_LIBRARIES = {"telegram", "aiohttp"}
MAY_USE_PLATFORM = {"front", "channels", "web", "sandbox"}


def module_name(path: Path) -> str:
    """The dotted module name of a source file under ROOT."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Edge]:
    """Every absolute import in ``path``; relative ones are resolved against its package."""
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    edges: list[Edge] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            edges += [Edge(source, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            edges.append(Edge(source, base, node.lineno))
            # ``from bot import campaigns`` imports the module bot.campaigns, not the package bot.
            edges += [Edge(source, f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return edges


def project_modules() -> set[str]:
    """Every module of the four packages."""
    return {module_name(path) for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def all_edges() -> list[Edge]:
    """The imports of every module of the four packages."""
    return [
        edge
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for edge in imports_of(path)
    ]


def back_edges(edges: list[Edge], modules: set[str]) -> list[str]:
    """The imports against the flow, one readable line each."""
    wrong: list[str] = []
    for edge in edges:
        source = layer(edge.source)
        if edge.target.split(".")[0] in PLATFORM_LIBRARIES:
            if source not in MAY_USE_PLATFORM:
                wrong.append(f"{edge.source}:{edge.line} imports {edge.target} (a platform library)")
            continue
        if edge.target not in modules and edge.target not in PACKAGES:
            continue  # a name imported from a module, or another library
        target = layer(edge.target)
        if target in FORBIDDEN.get(source, set()) or "bot-unplaced" in (source, target):
            wrong.append(f"{edge.source}:{edge.line} ({source}) imports {edge.target} ({target})")
    return wrong


def test_no_module_imports_against_the_flow() -> None:
    assert back_edges(all_edges(), project_modules()) == []


def test_bot_holds_only_the_front_door_and_its_sub_packages() -> None:
    unplaced = sorted(module for module in project_modules() if layer(module) == "bot-unplaced")
    assert unplaced == []


def test_the_checker_catches_each_kind_of_back_edge() -> None:
    modules = {"bot.engine.router", "handlers.common", "bot.channels.telegram.channel", "storage.records"}
    modules |= {"messages", "bot.domain.campaigns", "handlers.review", "bot.cli", "bot.helpers"}
    caught = back_edges(
        [
            Edge("bot.engine.router", "handlers.common", 1),  # the engine reaching up for wording
            Edge("bot.domain.campaigns", "bot.channels.telegram.channel", 2),
            Edge("messages", "bot.domain.campaigns", 3),
            Edge("storage.records", "handlers.common", 4),
            Edge("handlers.review", "bot.channels.telegram.channel", 5),
            Edge("handlers.review", "telegram", 6),
            Edge("handlers.common", "storage.records", 7),  # handlers name records through bot/domain
            Edge("bot.engine.router", "aiohttp.web", 8),
            Edge("bot.cli", "bot.helpers", 9),  # a flat module back in bot/
            Edge("handlers.review", "storage", 10),  # ``import storage`` or ``from storage import repos``
        ],
        modules,
    )
    assert [line.split(" ")[0] for line in caught] == [
        "bot.engine.router:1",
        "bot.domain.campaigns:2",
        "messages:3",
        "storage.records:4",
        "handlers.review:5",
        "handlers.review:6",
        "handlers.common:7",
        "bot.engine.router:8",
        "bot.cli:9",
        "handlers.review:10",
    ]
    allowed = [Edge("bot.cli", "handlers.routes", 1), Edge("handlers.review", "bot.domain.campaigns", 2)]
    assert back_edges(allowed, modules | {"handlers.routes"}) == []


WRITES = ("insert(", "update(", "delete(", "on_conflict_do")


def repository_writes() -> set[tuple[str, str]]:
    """(Repos attribute, method) of every repository method whose own body writes SQL."""
    repos = ast.parse((ROOT / "storage" / "database.py").read_text(encoding="utf-8"))
    # Repos makes each repository in a property named after it: `def units(self): return UnitRepo(…)`
    attribute_of = {
        made.func.id: node.name
        for node in ast.walk(repos)
        if isinstance(node, ast.FunctionDef)
        and isinstance(node.body[-1], ast.Return)
        and isinstance(made := node.body[-1].value, ast.Call)
        and isinstance(made.func, ast.Name)
    }
    writes: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "storage" / "repos").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for cls in ast.walk(ast.parse(source)):
            if not isinstance(cls, ast.ClassDef) or cls.name not in attribute_of:
                continue
            for method in cls.body:
                body = ast.get_source_segment(source, method) or ""
                if isinstance(method, ast.AsyncFunctionDef) and any(word in body for word in WRITES):
                    writes.add((attribute_of[cls.name], method.name))
    return writes


def handler_repository_calls() -> list[tuple[str, int, str, str]]:
    """Every ``ctx.repos.<repository>.<method>`` a handler names: (file, line, repository, method)."""
    calls = []
    for path in sorted((ROOT / "handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            inner = node.value if isinstance(node, ast.Attribute) else None
            if (
                isinstance(node, ast.Attribute)
                and isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Attribute)
                and inner.value.attr == "repos"
            ):
                calls.append((path.name, node.lineno, inner.attr, node.attr))
    return calls


def test_handlers_read_through_the_transaction_and_write_only_through_the_domain() -> None:
    writes = repository_writes()
    assert ("initiatives", "create_draft") in writes and ("units", "get") not in writes  # the finder works
    found = [
        f"{file}:{line} ctx.repos.{repo}.{method}" for file, line, repo, method in handler_repository_calls()
    ]
    assert found  # handlers do read through ctx.repos
    offending = [
        f"{file}:{line} ctx.repos.{repo}.{method}"
        for file, line, repo, method in handler_repository_calls()
        if (repo, method) in writes
    ]
    assert offending == [], "handlers write through bot/domain, not ctx.repos:\n" + "\n".join(offending)


def test_starting_the_service_loads_no_chart_or_workbook_library() -> None:
    """matplotlib, numpy, PIL, openpyxl and XlsxWriter cost half a second and tens of MB: only the first
    chart or workbook loads them."""
    check = "import sys, bot.cli; print(sorted({m.split('.')[0] for m in sys.modules} & HEAVY))"
    heavy = "HEAVY = {'matplotlib', 'numpy', 'PIL', 'openpyxl', 'xlsxwriter'}; "
    loaded = subprocess.run(
        [sys.executable, "-c", heavy + check], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert loaded == "[]"
