"""Every e-mail to a customer ends with the link to their privacy page.

From any message a customer can download their data or ask for its erasure
(:mod:`referral.services.privacy_requests`). The built-in mails place the link in their
templates; whatever else is written for a customer (a workspace's rewording, a journey's
message, the privacy link mail) gets it here, in the recipient's language, unless the
part quotes the address already. A marketer never has to remember it.
"""

from __future__ import annotations

from flask_babel import force_locale, gettext
from markupsafe import escape

from referral.services import privacy_requests
from referral.services.outbox import Mail


def with_privacy_link(mail: Mail, workspace_id: int, customer_id: int, locale: str) -> Mail:
    """``mail`` with the customer's privacy page address at the end of its text and of its
    HTML (before ``</body>`` when there is one), under a label in ``locale``; a part that
    quotes the address already, and an empty HTML part, stay as they are."""
    url = privacy_requests.page_url(workspace_id, customer_id)
    with force_locale(locale):
        label = gettext("Download or erase your data")
    text = mail.text
    if url not in text:
        text = f"{text.rstrip()}\n\n--\n{label}\n{url}\n"
    html = mail.html
    if html.strip() and str(escape(url)) not in html:
        footer = f'<p><small><a href="{escape(url)}">{escape(label)}</a></small></p>'
        at = html.lower().rfind("</body>")
        html = f"{html[:at]}{footer}\n{html[at:]}" if at >= 0 else f"{html}\n{footer}"
    return Mail(subject=mail.subject, text=text, html=html)
