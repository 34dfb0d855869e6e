"""Schemathesis hooks of the conformance run (tests/e2e/test_api_conformance.py).

A well-formed ``Idempotency-Key`` that the generator happens to draw twice would make the
second POST a replay: the API answers the first answer again (docs/API.md, Conventions),
naming a resource that may since have been deleted, and the run's "created resource is
usable" check would take that documented replay for a lost resource. So each well-formed
key gets a suffix that no other request of the run has. Malformed keys (the negative cases,
answered 422) are sent as drawn. Replays themselves are tested in tests/services and
tests/web (test_idempotency*).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

HEADER = "Idempotency-Key"
WELL_FORMED = re.compile(r"[ -~]{1,240}")
_sequence = itertools.count(1)


@schemathesis.hook
def map_headers(ctx: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    key = headers.get(HEADER) if headers else None
    if headers is not None and isinstance(key, str) and WELL_FORMED.fullmatch(key):
        headers[HEADER] = f"{key}-{next(_sequence)}"
    return headers
