"""The JSON API v1 under /api/v1 (contract: docs/API.md)."""

from apiflask import APIBlueprint
from flask import Flask

from referral.extensions import csrf

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API")


def init_app(app: Flask) -> None:
    # One line per module of routes (they register on import).
    import referral.api.batches  # noqa: F401
    import referral.api.campaigns  # noqa: F401
    import referral.api.customers  # noqa: F401
    import referral.api.docs  # noqa: F401
    import referral.api.draws  # noqa: F401
    import referral.api.embeds  # noqa: F401
    import referral.api.events  # noqa: F401
    import referral.api.integrations  # noqa: F401
    import referral.api.journeys  # noqa: F401
    import referral.api.mail_texts  # noqa: F401
    import referral.api.outbox  # noqa: F401
    import referral.api.participants  # noqa: F401
    import referral.api.rules  # noqa: F401
    import referral.api.segments  # noqa: F401
    import referral.api.spread  # noqa: F401
    import referral.api.webhooks  # noqa: F401
    from referral.api import guard, openapi

    csrf.exempt(bp)  # bearer keys, not cookies: nothing for a forged form to ride on
    guard.init_app(app)
    app.register_blueprint(bp)
    openapi.init_app(app)
