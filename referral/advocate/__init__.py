"""The advocate's own page, reached by a signed link from their e-mail."""

from flask import Blueprint, Flask

bp = Blueprint("advocate", __name__, url_prefix="/me")


def init_app(app: Flask) -> None:
    from referral.advocate import routes  # noqa: F401

    app.register_blueprint(bp)
