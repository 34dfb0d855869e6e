"""Browsable API documentation at /api/v1/docs: Swagger UI served from ``node_modules``
(installed by ``npm ci --ignore-scripts``, never committed; no CDN), started by our own
``static/js/api-docs.js`` (the CSP allows no inline script), reading /api/v1/openapi.json.

Only the files in :data:`SWAGGER_FILES` are served: a name maps to one fixed path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app, render_template, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from referral.api import bp

PACKAGE = "swagger-ui-dist"
SWAGGER_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
}
ONE_YEAR = 365 * 24 * 3600


def _package_dir() -> Path:
    configured = current_app.config.get("NODE_MODULES_DIR")
    base = Path(configured) if configured else Path(current_app.root_path).parent / "node_modules"
    return base / PACKAGE


@lru_cache(maxsize=4)
def _version(package_json: Path, mtime: float) -> str:
    return str(json.loads(package_json.read_text(encoding="utf-8")).get("version", ""))


def swagger_url(name: str) -> str:
    """The URL of a Swagger UI file, versioned (``?v=``) so it can be cached for a year."""
    package_json = _package_dir() / "package.json"
    try:
        version = _version(package_json, package_json.stat().st_mtime)
    except (OSError, ValueError):
        version = ""
    return url_for("api.swagger_file", name=name, v=version or None)


@bp.get("/docs")
@bp.doc(hide=True)
def docs() -> Any:
    spec_url = getattr(current_app, "spec_path", None) or "/api/v1/openapi.json"
    return render_template("api/docs.html", spec_url=spec_url, swagger_url=swagger_url)


@bp.get("/docs/vendor/<name>")
@bp.doc(hide=True)
def swagger_file(name: str) -> Any:
    if name not in SWAGGER_FILES:
        raise NotFound()
    path = _package_dir() / name
    if not path.is_file():
        raise NotFound(
            _(
                "The browser library %(name)s is not installed: run"
                " “npm ci --ignore-scripts” in the project folder (or “make setup”).",
                name=name,
            )
        )
    response = send_file(path, mimetype=SWAGGER_FILES[name], max_age=ONE_YEAR, conditional=True)
    response.cache_control.immutable = True
    return response
