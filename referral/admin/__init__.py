"""The marketers' back office under /admin."""

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app: Flask) -> None:
    from referral.admin import (  # noqa: F401
        audit,
        campaigns,
        context,
        customers,
        embeds,
        imports,
        instant_win,
        journey_messages,
        journeys,
        keys,
        lottery,
        mail_templates,
        members,
        outbox,
        participants,
        review,
        rules,
        segments,
        settings,
        spread,
        surveys,
        trials,
        webhooks,
    )

    app.register_blueprint(bp)
