from __future__ import annotations

from typing import Any

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from referral.forms import Form


class JoinForm(Form):
    """The landing page's form: an address, an optional name and the consent box.

    ``website`` is a honeypot: hidden from people by CSS, filled in by form-spamming bots.
    ``started`` is a signed time stamp of when the form was shown (see ``public.join``).
    ``ref`` carries a referral code from ``?ref=`` for browsers that refuse cookies.
    """

    email = EmailField(
        _l("Your e-mail address"),
        validators=[InputRequired(_l("Enter an e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    name = StringField(
        _l("Your first name (optional)"),
        validators=[Optional(), Length(max=120, message=_l("Keep the name to 120 characters."))],
        render_kw={"autocomplete": "given-name"},
    )
    # The label is the campaign's consent text, set by the view: it is stored as displayed.
    consent = BooleanField(validators=[DataRequired(_l("Please tick the box to agree."))])
    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    started = HiddenField()
    ref = HiddenField()


OTHER_REGION = "other"


class LotteryJoinForm(JoinForm):
    """The join form of a prize draw: eligibility is checked at entry (DESIGN invariant 5).

    The birth date only serves to compute the age; it is never stored.
    """

    birth_date = DateField(
        _l("Your date of birth"),
        validators=[Optional()],
        render_kw={"autocomplete": "bday"},
        description=_l("Only to check your age; we do not keep it."),
    )
    region = SelectField(_l("Where you live"), validators=[Optional()])


def join_form(regions: list[str] | None = None, **kwargs: Any) -> JoinForm:
    """The join form for a campaign: with eligibility questions when ``regions`` is given
    (a prize draw's eligible ISO 3166 codes, named in the reader's language)."""
    if regions is None:
        return JoinForm(**kwargs)
    form = LotteryJoinForm(**kwargs)
    names = Locale.parse(str(get_locale() or "en")).territories
    form.region.choices = [
        SelectChoice("", _l("Choose…")),
        *(SelectChoice(code, names.get(code.split("-")[0], code)) for code in regions),
        SelectChoice(OTHER_REGION, _l("Somewhere else")),
    ]
    return form
