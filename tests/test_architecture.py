"""The directions of dependency (docs/STYLE.md), read from the imports with ``ast``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "referral"
BLUEPRINTS = ("auth", "public", "advocate", "admin", "api")
REQUEST_BOUND = frozenset(
    {"request", "session", "g", "url_for", "render_template", "current_user"}
    | {"abort", "flash", "redirect", "make_response", "jsonify"}
)
# The web layer: the blueprints and the modules that read the request for them.
WEB_LAYER = (*BLUEPRINTS, "security", "headers", "i18n")
DOMAIN_FORBIDDEN = frozenset({"flask", "sqlalchemy", "qrcode", "werkzeug"})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of ``from … import``, relative imports included."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(path: Path, source: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Every (module, imported names) of a file, also those inside functions."""
    text = source if source is not None else path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield resolve(path, node), [alias.name for alias in node.names]


def python_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders if folder.exists() for p in folder.rglob("*.py"))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_import_walker_sees_relative_imports_and_imports_inside_functions() -> None:
    """The rules below are only as good as the walker: does it see every kind of import?"""
    source = (
        "from . import bp\n"
        "from ..services import accounts\n"
        "def view():\n"
        "    import qrcode.image.svg\n"
        "    from flask import request\n"
    )
    found = dict(imports(PACKAGE / "admin" / "views.py", source))
    assert found == {
        "referral.admin": ["bp"],
        "referral.services": ["accounts"],
        "qrcode.image.svg": [],
        "flask": ["request"],
    }
    assert dict(imports(PACKAGE / "admin" / "__init__.py", "from . import keys")) == {
        "referral.admin": ["keys"]
    }
    assert dict(imports(PACKAGE / "domain" / "emails.py", "from .errors import X")) == {
        "referral.domain.errors": ["X"]
    }


def test_the_domain_is_plain_python() -> None:
    """Does anything in referral/domain reach for Flask, SQLAlchemy, qrcode or the app?"""
    files = python_files(PACKAGE / "domain")
    assert len(files) >= 5
    offences = []
    for path in files:
        for module, _names in imports(path):
            top = module.split(".")[0]
            if top in DOMAIN_FORBIDDEN or top.startswith("flask_"):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
            elif within(module, "referral") and not within(module, "referral.domain"):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
            elif top == "networkx" and path.name != "spread_graph.py":
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offences == []


def test_services_and_models_never_touch_the_request() -> None:
    """Services and models take the acting marketer and workspace as arguments, so they run from the
    CLI and tests: none imports request, session, g, url_for, templates or current_user,
    nor a module of the web layer (a blueprint, ``security``, ``headers``, ``i18n``)."""
    files = python_files(PACKAGE / "services", PACKAGE / "models")
    assert len(files) >= 10
    offences = [
        f"{path.relative_to(ROOT)} imports {name} from {module}"
        for path in files
        for module, names in imports(path)
        if module.split(".")[0] in ("flask", "flask_login")
        for name in names
        if name in REQUEST_BOUND or name == "*"
    ]
    offences += [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module, _ in imports(path)
        if any(within(module, f"referral.{bp}") for bp in WEB_LAYER)
    ]
    assert offences == []


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_a_blueprint_does_not_import_another(blueprint: str) -> None:
    folder = PACKAGE / blueprint
    others = [b for b in BLUEPRINTS if b != blueprint]
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files(folder)
        for module, _ in imports(path)
        if any(within(module, f"referral.{other}") for other in others)
    ]
    assert offences == []


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        ("qrcode", {"referral/qr.py"}),
        ("networkx", {"referral/domain/spread_graph.py"}),
    ],
)
def test_a_heavy_library_is_imported_in_one_place_only(library: str, allowed: set[str]) -> None:
    """In the app, that is: tests and benchmarks may check results against the library."""
    users = {
        str(path.relative_to(ROOT))
        for path in python_files(PACKAGE)
        for module, _ in imports(path)
        if module.split(".")[0] == library
    }
    assert users <= allowed
