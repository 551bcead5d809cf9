"""The command line is the outermost layer: nothing in the package imports it (the API, the review app and the
MCP server sit on :mod:`goldenchain.api`), and one take has one shape, documented in the manual."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import goldenchain
from goldenchain.api import Take

SRC = Path(goldenchain.__file__).parent
CLI = SRC / "cli"
#: ``python -m goldenchain`` runs the command line: the one module outside cli/ that must import it
ENTRY = SRC / "__main__.py"


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def cli_imports(path: Path, source: str | None = None) -> list[str]:
    """Every import of ``goldenchain.cli`` (or a name in it) in the file: absolute, ``from goldenchain import
    cli``, relative, and inside functions."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(source if source is not None else path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        found += [n for n in names if n == "goldenchain.cli" or n.startswith("goldenchain.cli.")]
    return sorted(set(found))


def test_nothing_outside_the_command_line_imports_it() -> None:
    outside = [p for p in SRC.rglob("*.py") if CLI not in p.parents and p != ENTRY]
    assert len(outside) > 100  # the whole package was walked
    offenders = {str(p.relative_to(SRC)): cli_imports(p) for p in outside if cli_imports(p)}
    assert offenders == {}


def test_the_walk_finds_every_form_of_import() -> None:
    assert cli_imports(CLI / "__init__.py")  # the command line imports its own modules
    assert cli_imports(ENTRY) == ["goldenchain.cli", "goldenchain.cli.main"]
    views = SRC / "web" / "views.py"
    source = "def f():\n    from goldenchain import cli\n    from ..cli.project import execute_run\n"
    assert cli_imports(views, source) == [
        "goldenchain.cli",
        "goldenchain.cli.project",
        "goldenchain.cli.project.execute_run",
    ]
    assert cli_imports(views, "import goldenchain.client\nfrom goldenchain import api\n") == []


def test_the_manual_documents_every_field_of_a_take() -> None:
    page = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(Take) if f"| `{f.name}` |" not in page]
    assert missing == []
