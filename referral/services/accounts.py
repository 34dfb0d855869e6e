"""Workspaces, marketers and their logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from referral.domain.emails import clean_email
from referral.domain.errors import N_, ValidationFailed
from referral.domain.slugs import check_slug
from referral.extensions import db
from referral.models import Marketer, Membership, Workspace
from referral.models.base import utcnow

MIN_PASSWORD = 10
# Verifying against this keeps the time of a login with an unknown e-mail the same as one
# with a wrong password, so response times do not reveal which addresses have accounts.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def check_password_strength(password: str) -> None:
    """:raise ValidationFailed: on ``password`` when shorter than MIN_PASSWORD characters."""
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed.on(
            "password",
            N_("Use at least %(min)s characters for the password."),
            {"min": MIN_PASSWORD},
        )


@dataclass
class NewAdmin:
    marketer: Marketer
    workspace: Workspace
    password: str | None  # the generated password, when none was given
    created: bool


def ensure_workspace(slug: str, name: str | None = None) -> Workspace:
    """The workspace ``slug``, created when missing (no commit)."""
    slug = check_slug(slug.strip().lower())
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
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

    :raise ValidationFailed: on a malformed e-mail, slug or too short password.
    """
    address = clean_email(email)
    generated = None
    if password is not None:
        check_password_strength(password)
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
        set_password(marketer, password, commit=False)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.marketer_id == marketer.id
        )
    )
    if membership is None:
        db.session.add(Membership(workspace_id=workspace.id, marketer_id=marketer.id, role=role))
    else:
        membership.role = role
    db.session.commit()
    return NewAdmin(marketer, workspace, generated, created)


def authenticate(email: str, password: str) -> Marketer | None:
    """The active marketer with this e-mail and password, or None (same time either way)."""
    address = (email or "").strip().lower()
    marketer = db.session.scalar(select(Marketer).where(Marketer.email == address))
    if marketer is None or not marketer.active:
        if "h" not in _DUMMY_HASH:
            _DUMMY_HASH["h"] = hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH["h"], password or "")
        return None
    if not check_password_hash(marketer.password_hash, password or ""):
        return None
    marketer.last_login_at = utcnow()
    db.session.commit()
    return marketer


def load_by_session_token(token: str) -> Marketer | None:
    if not token:
        return None
    return db.session.scalar(select(Marketer).where(Marketer.session_token == token))


def end_sessions(marketer: Marketer) -> None:
    """Invalidate every login of this marketer (logout, password change)."""
    marketer.session_token = secrets.token_hex(32)
    db.session.commit()


def set_password(marketer: Marketer, password: str, *, commit: bool = True) -> None:
    check_password_strength(password)
    marketer.password_hash = hash_password(password)
    marketer.session_token = secrets.token_hex(32)
    if commit:
        db.session.commit()


def memberships_of(marketer: Marketer) -> list[Membership]:
    """The marketer's workspaces, oldest membership first."""
    return list(
        db.session.scalars(
            select(Membership).where(Membership.marketer_id == marketer.id).order_by(Membership.id)
        )
    )
