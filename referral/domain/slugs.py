"""Campaign slugs: the public part of ``/c/<slug>``."""

from __future__ import annotations

import re
import unicodedata

from referral.domain.errors import N_, ValidationFailed

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def slugify(text: str) -> str:
    """ASCII-fold ``text`` into a slug; empty when nothing usable remains (e.g. only CJK)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:64].strip("-")


def check_slug(slug: str) -> str:
    """:raise ValidationFailed: on field ``slug`` unless lower-case letters, digits, dashes."""
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed.on(
            "slug", N_("Use 1 to 64 lower-case letters, digits and dashes, not at either end.")
        )
    return slug
