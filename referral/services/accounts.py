"""Workspaces, marketers and their logins."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from referral.domain.emails import clean_email
from referral.domain.errors import N_, ValidationFailed
from referral.domain.slugs import check_slug
from referral.extensions import db
from referral.models import Marketer, Membership, Workspace
from referral.models.base import utcnow
from referral.services import audit
from referral.services.tx import retry_on_contention

MIN_PASSWORD = 10
# zxcvbn's score: 3 means about 10^8 guesses or more, out of reach of an online attack and
# slow offline against scrypt. Lower scores are what attackers' lists and rules find first.
MIN_SCORE = 3
# zxcvbn refuses longer input; a password whose first 72 characters are strong is strong.
SCORED_LENGTH = 72
# Verifying against this keeps the time of a login with an unknown e-mail the same as one
# with a wrong password, so response times do not reveal which addresses have accounts.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def _check_length(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed.on(
            "password",
            N_("Use at least %(min)s characters for the password."),
            {"min": MIN_PASSWORD},
        )


TOO_COMMON = N_(
    "This password is too common: it is on the lists attackers try first. "
    "Use a passphrase of a few unrelated words instead."
)
TOO_PERSONAL = N_(
    "This password is too easy to guess: it contains your e-mail address or name. "
    "Use a passphrase of a few unrelated words instead."
)
TOO_PREDICTABLE = N_(
    "This password is too easy to guess: keyboard rows, sequences, repeats and dates are "
    "tried first. Use a passphrase of a few unrelated words instead."
)
TOO_WEAK = N_(
    "This password is too easy to guess. Use a longer passphrase of a few unrelated words."
)
_PATTERNS = frozenset({"spatial", "sequence", "repeat", "date", "regex"})


def _weakness(password: str, user_inputs: Iterable[str]) -> str | None:
    """Why zxcvbn's offline lists and rules would find ``password`` early, or None."""
    found = zxcvbn(password[:SCORED_LENGTH], user_inputs=[u for u in user_inputs if u])
    if found["score"] >= MIN_SCORE:
        return None
    matches = found["sequence"]
    dictionaries = {m.get("dictionary_name") for m in matches if m["pattern"] == "dictionary"}
    if "user_inputs" in dictionaries:
        return TOO_PERSONAL
    if "passwords" in dictionaries:
        return TOO_COMMON
    if any(m["pattern"] in _PATTERNS for m in matches):
        return TOO_PREDICTABLE
    return TOO_WEAK


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Refuse a password that is short or that attackers would guess early.

    At least :data:`MIN_PASSWORD` characters, and not found early by zxcvbn's offline lists
    (common and leaked passwords, words, names), rules (keyboard rows, sequences, repeats,
    dates, l33t) or ``user_inputs`` (the person's e-mail address, name, workspace). Long
    passphrases of ordinary words pass: their length is their strength.

    :raise ValidationFailed: on ``password``, with the reason.
    """
    _check_length(password)
    inputs = list(user_inputs)
    for value in list(inputs):
        local, _, domain = value.partition("@")
        inputs += [local, domain.split(".")[0]] if domain else []
    reason = _weakness(password, inputs)
    if reason is not None:
        raise ValidationFailed.on("password", reason)


@dataclass
class NewAdmin:
    marketer: Marketer
    workspace: Workspace
    password: str | None  # the generated password, when none was given
    created: bool


def find_workspace(slug: str) -> Workspace | None:
    """The workspace ``slug``; slugs are stored lower-case, so any spelling finds it."""
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug.strip().lower()))


def ensure_workspace(slug: str, name: str | None = None) -> Workspace:
    """The workspace ``slug``, created when missing (no commit)."""
    slug = check_slug(slug.strip().lower())
    workspace = find_workspace(slug)
    if workspace is None:
        workspace = Workspace(slug=slug, name=name or slug.replace("-", " ").title())
        db.session.add(workspace)
        db.session.flush()
    return workspace


def create_admin(
    workspace_slug: str, email: str, password: str | None = None, role: str = "owner"
) -> NewAdmin:
    """Create the workspace if missing and make ``email`` a member with ``role``.

    An existing marketer keeps their password unless a new one is given. A generated
    password (when none is given for a new account) is returned once and never stored.
    Only the length of a given password is checked here: whoever takes a password from a
    person (the ``create-admin`` command, the forms) checks its strength first with
    :func:`check_password_strength`. A disabled membership is enabled again. A new
    membership, a changed role and a membership enabled again are audited.

    :raise ValidationFailed: on a malformed e-mail, slug or too short password.
    """
    address = clean_email(email)
    generated = None
    if password is not None:
        _check_length(password)
    workspace = ensure_workspace(workspace_slug)
    marketer = db.session.scalar(select(Marketer).where(Marketer.email == address))
    created = marketer is None
    if marketer is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        marketer = Marketer(
            email=address,
            password_hash=hash_password(password),
            session_token=secrets.token_hex(32),
        )
        db.session.add(marketer)
        db.session.flush()
    elif password is not None:
        _store_password(marketer, password)
    _grant_role(workspace, marketer, role)
    db.session.commit()
    return NewAdmin(marketer, workspace, generated, created)


def _grant_role(workspace: Workspace, marketer: Marketer, role: str) -> None:
    """``marketer`` a member of ``workspace`` with ``role``, enabled again if disabled."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.marketer_id == marketer.id
        )
    )
    before = membership.role if membership is not None else None
    if membership is None:
        db.session.add(Membership(workspace_id=workspace.id, marketer_id=marketer.id, role=role))
    else:
        membership.role = role
    if membership is not None and membership.disabled_at is not None:
        membership.disabled_at = None
        _audit_member("member.enable", workspace, marketer, {"role": role})
    if before != role:
        change = "member.add" if before is None else "member.role"
        _audit_member(change, workspace, marketer, {"from": before, "to": role})


def _audit_member(
    action: str, workspace: Workspace, marketer: Marketer, data: dict[str, Any]
) -> None:
    audit.record(
        action, f"marketer:{marketer.id}", workspace_id=workspace.id, actor="operator", data=data
    )


def authenticate(email: str, password: str, *, ip_hash: str | None = None) -> Marketer | None:
    """The active marketer with this e-mail and password, or None (same time either way).

    Every attempt is audited: a success with the marketer, a failure with the masked
    address only (never the password, never the whole address).
    """
    address = (email or "").strip().lower()
    marketer = db.session.scalar(select(Marketer).where(Marketer.email == address))
    if marketer is None or not marketer.active:
        if "h" not in _DUMMY_HASH:
            _DUMMY_HASH["h"] = hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH["h"], password or "")
        _login_refused(address, marketer, "failed", ip_hash)
        return None
    if not check_password_hash(marketer.password_hash, password or ""):
        _login_refused(address, marketer, "failed", ip_hash)
        return None
    marketer.last_login_at = utcnow()
    audit.record(
        "auth.login", f"marketer:{marketer.id}", workspace_id=None, marketer_id=marketer.id,
        ip_hash=ip_hash,
    )  # fmt: skip
    db.session.commit()
    return marketer


def login_throttled(email: str, *, ip_hash: str | None = None) -> None:
    """Audit a sign-in refused before the password was even checked: too many failures."""
    address = (email or "").strip().lower()
    marketer = db.session.scalar(select(Marketer).where(Marketer.email == address))
    _login_refused(address, marketer, "throttled", ip_hash)


def _login_refused(
    address: str, marketer: Marketer | None, outcome: str, ip_hash: str | None
) -> None:
    # Refusals about an account are shown to its workspaces' owners; the others only logged.
    subject = f"marketer:{marketer.id}" if marketer is not None else "account:unknown"
    audit.security_event(
        "auth.login", subject, actor=audit.mask_email(address), outcome=outcome, ip_hash=ip_hash
    )


def load_by_session_token(token: str) -> Marketer | None:
    if not token:
        return None
    return db.session.scalar(select(Marketer).where(Marketer.session_token == token))


def end_sessions(marketer: Marketer) -> None:
    """Invalidate every login of this marketer (logout, password change)."""
    marketer.session_token = secrets.token_hex(32)
    db.session.commit()


def _store_password(marketer: Marketer, password: str) -> None:
    """Hash and keep ``password`` and end every session (no commit)."""
    marketer.password_hash = hash_password(password)
    marketer.session_token = secrets.token_hex(32)


def set_password(marketer: Marketer, password: str, *, commit: bool = True) -> None:
    """Give ``marketer`` a new password and end all their sessions.

    :raise ValidationFailed: on ``password`` when it is short or easy to guess.
    """
    check_password_strength(password, _personal_words(marketer))
    _store_password(marketer, password)
    if commit:
        db.session.commit()


def _personal_words(marketer: Marketer) -> list[str]:
    words = [marketer.email, marketer.name]
    words += [m.workspace.name for m in marketer.memberships] + [
        m.workspace.slug for m in marketer.memberships
    ]
    return [w for w in words if w]


@retry_on_contention
def change_password(
    marketer: Marketer, current: str, new: str, *, ip_hash: str | None = None
) -> None:
    """The marketer replaces their password, proving they know the current one.

    Every session of theirs ends (the caller signs the current one in again); the change is
    audited, and so is a wrong current password.

    :raise ValidationFailed: on ``current_password`` when it is wrong; on ``password`` when
        the new one is the same as the current one, short or easy to guess.
    """
    if not check_password_hash(marketer.password_hash, current or ""):
        audit.security_event(
            "auth.password_change", f"marketer:{marketer.id}", marketer_id=marketer.id,
            outcome="failed", ip_hash=ip_hash,
        )  # fmt: skip
        raise ValidationFailed.on("current_password", N_("The current password is not right."))
    if new == current:
        raise ValidationFailed.on(
            "password", N_("Choose a new password, not the one you have now.")
        )
    set_password(marketer, new, commit=False)
    audit.record(
        "auth.password_change", f"marketer:{marketer.id}", workspace_id=None,
        marketer_id=marketer.id, ip_hash=ip_hash,
    )  # fmt: skip
    db.session.commit()


def memberships_of(marketer: Marketer) -> list[Membership]:
    """The marketer's enabled memberships, oldest first: a disabled one opens nothing."""
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.marketer_id == marketer.id, Membership.disabled_at.is_(None))
            .order_by(Membership.id)
        )
    )
