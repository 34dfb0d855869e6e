"""Browser libraries served from ``node_modules`` (installed by ``npm ci --ignore-scripts``,
never committed), so that no page needs a CDN and the CSP can stay ``'self'``.

Only the files in :data:`VENDOR_FILES` are served: a name maps to one fixed path, so no
request can reach any other file. URLs carry the package version (``?v=``), so the files
can be cached for a year and a new version is fetched as soon as it is installed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from referral.admin import bp
from referral.security import READ_ROLES, role_required

# name in the URL → (npm package, file inside the package)
VENDOR_FILES = {
    "sigma.min.js": ("sigma", "dist/sigma.min.js"),
    "graphology.umd.min.js": ("graphology", "dist/graphology.umd.min.js"),
    "graphology-library.min.js": ("graphology-library", "dist/graphology-library.min.js"),
}
ONE_YEAR = 365 * 24 * 3600


def node_modules() -> Path:
    """``NODE_MODULES_DIR`` when set, else ``node_modules`` next to the package."""
    configured = current_app.config.get("NODE_MODULES_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "node_modules"


@lru_cache(maxsize=16)
def _version(package_json: Path, mtime: float) -> str:
    return str(json.loads(package_json.read_text(encoding="utf-8")).get("version", ""))


def package_version(package: str) -> str:
    """The installed version of ``package`` ("" when it is not installed)."""
    package_json = node_modules() / package / "package.json"
    try:
        return _version(package_json, package_json.stat().st_mtime)
    except (OSError, ValueError):
        return ""


@bp.app_template_global()
def vendor_url(name: str) -> str:
    """The URL of a whitelisted library file, versioned for long caching."""
    package, _path = VENDOR_FILES[name]
    return url_for("admin.vendor", name=name, v=package_version(package) or None)


@bp.route("/vendor/<name>")
@role_required(*READ_ROLES)
def vendor(name: str) -> Any:
    if name not in VENDOR_FILES:
        raise NotFound()
    package, inside = VENDOR_FILES[name]
    path = node_modules() / package / inside
    if not path.is_file():
        raise NotFound(
            _(
                "The browser library %(name)s is not installed: run"
                " “npm ci --ignore-scripts” in the project folder (or “make setup”).",
                name=name,
            )
        )
    response = send_file(path, mimetype="text/javascript", max_age=ONE_YEAR, conditional=True)
    response.cache_control.immutable = True
    return response
