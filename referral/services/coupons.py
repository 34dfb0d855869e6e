"""The coupon pool of a campaign: codes uploaded by a marketer, handed out by coupon rewards."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from referral.domain.errors import N_, Message, ValidationFailed
from referral.extensions import db
from referral.models import Campaign, CouponCode
from referral.models.base import utcnow
from referral.services.rows import insert_all_once
from referral.services.tx import retry_on_contention

CODE_MAX = 64
UPLOAD_MAX = 10_000
SHOWN_PROBLEMS = 5


def read_codes(text: str, *, csv_file: bool = False) -> list[str]:
    """The codes in an upload: one per line, or with ``csv_file`` the first column of each
    row (quoted cells allowed).

    A first code that reads ``code`` (any case) is taken for a header and skipped; blank
    lines and surrounding spaces are ignored. Nothing else is checked here.
    """
    text = text.lstrip("\ufeff")
    if csv_file:
        codes = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row]
    else:
        codes = [line.strip() for line in text.splitlines()]
    codes = [c for c in codes if c]
    if codes and codes[0].lower() in ("code", "codes", "coupon", "coupon code"):
        codes = codes[1:]
    return codes


def _check(codes: list[str]) -> list[str]:
    """Trimmed, de-duplicated (first spelling kept, order kept) and length-checked codes.

    :raise ValidationFailed: on field ``codes`` when there are none, too many, or any code
        is longer than ``CODE_MAX`` or holds a control character; names the first few.
    """
    unique = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not unique:
        raise ValidationFailed.on("codes", N_("Give at least one coupon code."))
    if len(unique) > UPLOAD_MAX:
        raise ValidationFailed.on(
            "codes",
            N_("Upload at most %(max)s codes at a time."),
            {"max": UPLOAD_MAX},
        )
    bad = [c for c in unique if len(c) > CODE_MAX or any(ord(ch) < 32 for ch in c)]
    if bad:
        shown = ", ".join(c[:20] + ("…" if len(c) > 20 else "") for c in bad[:SHOWN_PROBLEMS])
        raise ValidationFailed(
            N_("Some fields are not valid."),
            {
                "codes": [
                    Message(
                        N_(
                            "Codes are 1 to %(max)s characters without control characters; "
                            "%(count)s are not: %(codes)s"
                        ),
                        {"max": CODE_MAX, "count": len(bad), "codes": shown},
                    )
                ]
            },
        )
    return unique


@retry_on_contention
def add_coupons(campaign: Campaign, codes: list[str]) -> int:
    """Add ``codes`` to the campaign's pool, in one transaction; returns how many were new.

    Codes are trimmed and de-duplicated, both within the upload and against the pool (the
    same code is never handed out twice). A code that is already in the pool is skipped,
    not an error, so uploading the same file twice adds nothing the second time. When any
    code is malformed nothing is stored. Two uploads racing on the same code store it once:
    each insert skips the codes the other stored (``INSERT … ON CONFLICT DO NOTHING``).

    :raise ValidationFailed: no codes, too many, or a code too long (see ``_check``).
    """
    wanted = _check(codes)
    now = utcnow()
    rows = [{"campaign_id": campaign.id, "code": c, "created_at": now} for c in wanted]
    added = insert_all_once(CouponCode, rows, ("campaign_id", "code"))
    db.session.commit()
    return added


def coupon_counts(campaign: Campaign) -> dict[str, int]:
    """How many codes the pool holds, how many were handed out and how many remain."""
    total, used = db.session.execute(
        select(func.count(CouponCode.id), func.count(CouponCode.ledger_entry_id)).where(
            CouponCode.campaign_id == campaign.id
        )
    ).one()
    return {"total": int(total), "used": int(used), "remaining": int(total) - int(used)}
