"""The JSON API v1 under /api/v1 (contract: shared API.md)."""

from apiflask import APIBlueprint
from flask import Flask

from referral.extensions import csrf

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API")


def init_app(app: Flask) -> None:
    from referral.api import campaigns, openapi  # noqa: F401  (routes register on import)

    csrf.exempt(bp)  # bearer keys, not cookies: nothing for a forged form to ride on
    app.register_blueprint(bp)
    openapi.init_app(app)
