"""Share links for a referral link: one per target, each tagged ``?ch=<target>``.

Registered as the template global ``share_links`` so the thank-you page and the advocate's
page (another blueprint) render the same buttons without importing each other. Texts are
built here, in Python, because a translated text must be URL-encoded as plain text, not as
HTML-escaped markup.
"""

from __future__ import annotations

from urllib.parse import quote

from flask_babel import gettext

from referral.public import bp


def tagged(url: str, channel: str) -> str:
    """``url`` marked with the channel it was shared through."""
    return f"{url}?ch={channel}"


def share_text(url: str, campaign_name: str) -> str:
    """The message a friend receives, always with the reward disclosure."""
    invite = gettext("Join me at %(campaign)s: %(url)s", campaign=campaign_name, url=url)
    disclosure = gettext("I get a reward if you join.")
    return f"{invite}\n{disclosure}"


@bp.app_template_global("share_links")
def share_links(url: str, campaign_name: str) -> dict[str, str]:
    """Per target, the address to open (or, for ``copy`` and ``wechat``, the link itself)."""

    def text(channel: str) -> str:
        return quote(share_text(tagged(url, channel), campaign_name), safe="")

    subject = quote(gettext("Join me at %(campaign)s", campaign=campaign_name), safe="")
    return {
        "copy": tagged(url, "copy"),
        "email": f"mailto:?subject={subject}&body={text('email')}",
        "whatsapp": f"https://wa.me/?text={text('whatsapp')}",
        "x": f"https://twitter.com/intent/tweet?text={text('x')}",
        "line": (
            "https://social-plugins.line.me/lineit/share?url="
            f"{quote(tagged(url, 'line'), safe='')}&text={text('line')}"
        ),
        "wechat": tagged(url, "wechat"),
    }


@bp.app_template_global("share_message")
def share_message(url: str, campaign_name: str) -> str:
    """The share text as shown on the page (the copy button copies it with the link)."""
    return share_text(tagged(url, "copy"), campaign_name)
