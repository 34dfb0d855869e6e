"""Tag names on customers (``vip``, ``promoter_buyer``): one spelling per tag, whoever sets
it (a marketer, the API or a journey), so a filter on a tag finds every customer carrying it.

A tag is stripped, lower-cased (``casefold``) and its runs of spaces made one; it is then 1
to :data:`TAG_MAX` characters: letters, digits, spaces and ``_ - . : / + &``, starting with
a letter or a digit. No comma (lists of tags are written with commas) and no leading
``= + - @`` (a tag is a cell of an export).
"""

from __future__ import annotations

import re

from referral.domain.errors import N_, ValidationFailed

TAG_MAX = 64
_ALLOWED = re.compile(r"[^\W_][\w .:/+&-]*")
BAD_TAG = N_(
    "Write a tag with 1 to %(max)s letters, digits, spaces and _ - . : / + &, starting "
    "with a letter or a digit."
)


def normal_tag(value: object) -> str | None:
    """``value`` as the one spelling of its tag, or None when it is not a tag."""
    if not isinstance(value, str):
        return None
    clean = " ".join(value.split()).casefold()
    if not 0 < len(clean) <= TAG_MAX or not _ALLOWED.fullmatch(clean):
        return None
    return clean


def checked_tag(value: object, field: str = "tag") -> str:
    """:func:`normal_tag`. :raise ValidationFailed: on ``field`` when it is not a tag."""
    clean = normal_tag(value)
    if clean is None:
        raise ValidationFailed.on(field, BAD_TAG, {"max": TAG_MAX})
    return clean
