"""Pages and mails rendered once, with a slot for each value that differs per person.

A confirmation mail or a landing page is the same for everyone who sees it in one campaign
and language, except a few values: a name, a link, a token. Rendering the templates with
:func:`slot` markers in their place gives a *shape*, kept while the campaign is unchanged
(``services.memo.shared``); :func:`fill` then writes each person's values into it. A marker
is letters, digits and underscores, which neither HTML escaping, URL encoding nor
``%``-formatting change, and holds a random part drawn once per process, so no text of a
campaign can look like one; filling is one pass, so a value that looks like a marker stays
as it is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from markupsafe import escape

_MARK = f"s{secrets.token_hex(6)}"
_SLOT = re.compile(f"{_MARK}_([a-z_]+?)_{_MARK}")


def slot(name: str) -> str:
    """The marker of the value ``name`` (lower-case letters and underscores)."""
    return f"{_MARK}_{name}_{_MARK}"


def fill(shape: str, values: Mapping[str, str], html: bool) -> str:
    """``shape`` with each marker replaced by its value: escaped as the templates'
    autoescaping would have written it when ``html``, as it is otherwise."""
    if html:
        return _SLOT.sub(lambda found: str(escape(values[found.group(1)])), shape)
    return _SLOT.sub(lambda found: values[found.group(1)], shape)
