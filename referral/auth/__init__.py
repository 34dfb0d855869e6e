"""Marketer login and logout, and a marketer's own account."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    from referral.auth import account, routes  # noqa: F401  (routes attach themselves to bp)

    routes.configure_login(app)
    app.register_blueprint(bp)
