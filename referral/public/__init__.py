"""Consumer-facing pages: the home page, campaign landing pages with the join form, referral
links, QR codes, confirmation and the public leaderboard."""

from flask import Blueprint, Flask

bp = Blueprint("public", __name__)


def init_app(app: Flask) -> None:
    from referral.public import (  # noqa: F401
        embed,
        fastpath,
        hooks,
        join,
        links,
        lottery,
        play,
        privacy,
        routes,
        sharing,
        surveys,
        trials,
        unsubscribe,
    )

    app.register_blueprint(bp)
    fastpath.init_app(app)
