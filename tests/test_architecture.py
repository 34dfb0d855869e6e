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


SESSION_WRITES = frozenset({"add", "add_all", "commit", "rollback", "flush", "delete", "merge"})
QUERY_METHODS = frozenset({"get", "scalar", "scalars", "execute", "query"})


def view_files() -> list[Path]:
    files = python_files(*(PACKAGE / name for name in BLUEPRINTS))
    return [*files, PACKAGE / "cli.py"]


def database_uses(path: Path, source: str | None = None) -> Iterator[str]:
    """Each place a module writes through the session, builds a query or reads one."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    from_sqlalchemy = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in from_sqlalchemy:
            yield f"line {node.lineno}: {func.id}(…)"
        elif isinstance(func, ast.Attribute) and (
            ast.unparse(func.value) == "db.session"
            and func.attr in SESSION_WRITES | QUERY_METHODS
            or isinstance(func.value, ast.Attribute)
            and func.value.attr == "query"
            and ast.unparse(func.value.value)[:1].isupper()
        ):
            yield f"line {node.lineno}: {ast.unparse(func)}(…)"


def test_the_database_walker_sees_writes_and_queries() -> None:
    source = (
        "from sqlalchemy import select\n"
        "def view():\n"
        "    db.session.add(x)\n"
        "    db.session.commit()\n"
        "    rows = db.session.scalars(select(Campaign))\n"
        "    other = Campaign.query.all()\n"
        "    request.args.get('x')\n"
        "    session.get('visitor')\n"
        "    text('not a query: no sqlalchemy import of that name')\n"
    )
    found = list(database_uses(PACKAGE / "admin" / "views.py", source))
    assert sorted(line.split(":")[0] for line in found) == [
        "line 3",
        "line 4",
        "line 5",
        "line 5",
        "line 6",
    ]


def test_views_and_the_cli_leave_the_database_to_services() -> None:
    """Blueprints and the CLI parse input and render; services read and write (and own the
    transaction: docs/ARCHITECTURE.md). No session write, rollback or query in a view."""
    files = view_files()
    assert len(files) >= 20
    offences = [f"{path.relative_to(ROOT)} {use}" for path in files for use in database_uses(path)]
    assert offences == []


FACTORIES = frozenset({"init_app", "create_app", "_create_app", "_worker_app"})


def local_imports(path: Path, source: str | None = None) -> Iterator[str]:
    """Imports inside functions, except in an ``init_app``, ``register_*`` or an app factory
    (where importing late is how the parts are wired together)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if fn.name in FACTORIES or fn.name.startswith("register_"):
            continue
        for node in fn.body:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield f"line {inner.lineno} in {fn.name}: {ast.unparse(inner)}"


def test_the_local_import_walker_skips_factories_only() -> None:
    source = (
        "def init_app(app):\n    from a import b\n"
        "def register_blueprints(app):\n    import c\n"
        "def send():\n    from d import e\n"
    )
    assert list(local_imports(PACKAGE / "x.py", source)) == ["line 6 in send: from d import e"]


def test_imports_sit_at_the_top_of_a_module() -> None:
    """A reader sees a module's dependencies at its top; only the factories import late."""
    offences = [
        f"{path.relative_to(ROOT)} {use}"
        for path in python_files(PACKAGE)
        for use in local_imports(path)
    ]
    assert offences == []
