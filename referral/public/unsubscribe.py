"""Unsubscribing and the preference page, reached by the signed links in every journey mail.

``/u/<token>`` names a customer and a topic. A GET only shows a page with a button: mail
scanners follow links, and following one must change nothing. A POST is the one-click
unsubscribe of RFC 8058, sent by a mail client from ``List-Unsubscribe-Post`` without
cookies or a form token (the signed address is the proof), and by the page's button: it
takes effect at once and answers 200, and it sets no cookie.

``/preferences/<token>`` names a customer: a form (with its CSRF token) ticking marketing
and birthday mail, with the month and day of the birthday; bad input re-renders it (422).
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectChoice, SelectField
from wtforms.validators import Optional

from referral.domain.consent_topics import BIRTHDAY, MARKETING
from referral.domain.errors import ValidationFailed
from referral.errors import localized_errors, localized_message
from referral.extensions import csrf
from referral.forms import Form
from referral.models import Customer
from referral.public import bp
from referral.services import privacy_requests, subscriptions

TOKEN_MAX = 300  # far longer than any token we sign
# What a topic is called on the pages ("Unsubscribe from %(topic)s").
TOPIC_NAMES = {MARKETING: _l("news and offers"), BIRTHDAY: _l("birthday mail")}


class PreferencesForm(Form):
    """The topics a customer may tick, and the month and day of their birthday (no year)."""

    marketing = BooleanField(_l("E-mail me news and offers"))
    birthday = BooleanField(_l("E-mail me on my birthday"))
    birthday_month = SelectField(_l("Month of your birthday"), validators=[Optional()])
    birthday_day = SelectField(_l("Day of your birthday"), validators=[Optional()])


def _private(page: str, status: int = 200) -> Any:
    response = current_app.make_response((page, status))
    # The address is a key to the customer's subscriptions: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Any:
    """The unsubscribe page (GET) and the one-click unsubscribe (POST).

    :raise NotFound: a forged or altered token, or a customer who is gone (404).
    """
    token = token[:TOKEN_MAX]
    customer, topic = subscriptions.from_unsubscribe_token(token)
    topic_name = str(TOPIC_NAMES[topic])
    preferences = subscriptions.preferences_url(customer.id)
    if request.method == "GET":
        page = render_template(
            "public/unsubscribe.html",
            token=token,
            topic_name=topic_name,
            subscribed=topic in subscriptions.topics_of(customer),
            preferences_url=preferences,
        )
        return _private(page)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    source = subscriptions.ONE_CLICK if one_click else subscriptions.UNSUBSCRIBE_PAGE
    subscriptions.unsubscribe(customer, topic, source, user_agent=request.user_agent.string)
    page = render_template(
        "public/unsubscribe_done.html", topic_name=topic_name, preferences_url=preferences
    )
    return _private(page)


def _month_choices() -> list[SelectChoice]:
    names = Locale.parse(str(get_locale() or "en")).months["stand-alone"]["wide"]
    return [SelectChoice("", _l("Month")), *(SelectChoice(str(m), names[m]) for m in range(1, 13))]


def _day_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Day")), *(SelectChoice(str(d), str(d)) for d in range(1, 32))]


def _form(customer: Customer, formdata: Any = None) -> PreferencesForm:
    topics = subscriptions.topics_of(customer)
    form = PreferencesForm(
        formdata=formdata,
        data={
            "marketing": MARKETING in topics,
            "birthday": BIRTHDAY in topics,
            "birthday_month": str(customer.birthday_month or ""),
            "birthday_day": str(customer.birthday_day or ""),
        },
    )
    form.birthday_month.choices = _month_choices()
    form.birthday_day.choices = _day_choices()
    return form


def _preferences_page(
    token: str,
    customer: Customer,
    form: PreferencesForm,
    status: int = 200,
    notice: str = "",
    saved: bool = False,
) -> Any:
    privacy = privacy_requests.page_token(customer.workspace_id, customer.id)
    page = render_template(
        "public/preferences.html",
        token=token,
        form=form,
        notice=notice,
        saved=saved,
        privacy_url=url_for(".privacy", token=privacy),
    )
    return _private(page, status)


def _birthday(form: PreferencesForm) -> subscriptions.Birthday | None:
    """The month and day chosen, or None when either is left empty."""
    month, day = form.birthday_month.data, form.birthday_day.data
    if not month or not day:
        return None
    return subscriptions.Birthday(int(month), int(day))


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str) -> Any:
    """The customer's preference page.

    :raise NotFound: a forged or altered token, or a customer who is gone (404).
    """
    token = token[:TOKEN_MAX]
    customer = subscriptions.from_preferences_token(token)
    if request.method == "GET":
        return _preferences_page(
            token, customer, _form(customer), saved=request.args.get("saved") == "1"
        )
    form = _form(customer, request.form)
    if not form.validate():
        return _preferences_page(token, customer, form, 422)
    wanted = [name for name in (MARKETING, BIRTHDAY) if form[name].data]
    texts = {name: str(form[name].label.text) for name in wanted}
    try:
        subscriptions.set_topics(
            customer,
            wanted,
            subscriptions.PREFERENCES_PAGE,
            user_agent=request.user_agent.string,
            birthday=_birthday(form),
            texts=texts,
        )
    except ValidationFailed as error:
        for name, messages in localized_errors(error).items():
            field = form.birthday_month if name == "birthday" else form._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, *messages]
        return _preferences_page(token, customer, form, 422, localized_message(error))
    return redirect(url_for(".preferences", token=token, saved=1), 303)
