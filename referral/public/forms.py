from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, StringField
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
