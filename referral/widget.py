"""The embed script (``/w/v1.js``) that other sites load: its bytes and their Subresource
Integrity hash, which the campaign's admin page and the API publish beside the snippet.

The file is ours, hand-written and small (``referral/static/w/v1.js``). Its address names its
version: a site pins the bytes with ``integrity``, so ``v1`` never changes once published; a
changed script is a new file (``v2.js``) beside it.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

SCRIPT = Path(__file__).parent / "static" / "w" / "v1.js"
PATH = "/w/v1.js"
SANDBOX = "allow-scripts allow-forms allow-same-origin allow-popups"


@cache
def script_bytes() -> bytes:
    return SCRIPT.read_bytes()


def integrity(data: bytes | None = None) -> str:
    """``sha384-<base64>`` of the script (or of ``data``), as ``integrity=`` wants it."""
    digest = hashlib.sha384(script_bytes() if data is None else data).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def snippet(base_url: str, slug: str, kind: str = "join") -> str:
    """The HTML a marketer pastes into their site to show widget ``kind`` of ``slug``."""
    return (
        f'<script src="{base_url}{PATH}" integrity="{integrity()}" '
        'crossorigin="anonymous" async></script>\n'
        f'<div data-referral-widget="{kind}" data-campaign="{slug}"></div>'
    )
