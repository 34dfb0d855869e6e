"""segments: saved filters of a workspace's customer list (``segments``); a customer's tags
live in ``customer_tags`` alone, in one lower-cased spelling: the tags of the old JSON column
``customers.tags`` are copied there (normalised, without repeats) and the column is dropped,
and the tags already in ``customer_tags`` are brought to the same spelling

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 07:30:00

"""

import json
import re
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The spelling of referral/domain/tags.py as it stands at this revision, copied so that the
# migration keeps meaning the same when the domain changes.
TAG_MAX = 64
_ALLOWED = re.compile(r"[^\W_][\w .:/+&-]*")
_REFUSED = re.compile(r"[^\w .:/+&-]")
_LEADING = re.compile(r"^[\W_]+")
BATCH = 500


def _spelling(value):
    """The one spelling of a stored tag, or None when nothing of it can be a tag. A tag the
    rules refuse keeps what it can: the characters a tag may not hold become spaces and a
    leading sign goes (``=vip`` is ``vip``, ``a,b`` is ``a b``)."""
    if not isinstance(value, str):
        return None
    clean = " ".join(value.split()).casefold()
    if not _ALLOWED.fullmatch(clean):
        clean = " ".join(_LEADING.sub("", _REFUSED.sub(" ", clean)).split())
    clean = clean[:TAG_MAX].rstrip()
    return clean if clean and _ALLOWED.fullmatch(clean) else None


def upgrade():
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_segments_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_segments_workspace_id_name")),
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segments_workspace_id"), ["workspace_id"], unique=False)
    bind = op.get_bind()
    _respell_tags(bind)
    _move_column_tags(bind)
    # Not a batch on SQLite: recreating customers would drop the old table, and with foreign
    # keys on that deletes every row that cascades from a customer (participations, consents).
    op.drop_column("customers", "tags")


def _respell_tags(bind):
    """The tags in customer_tags in their one spelling; of two that now read alike the
    first stays."""
    rows = bind.execute(
        sa.text("SELECT id, customer_id, tag FROM customer_tags ORDER BY customer_id, id")
    ).all()
    seen = set()
    gone = []
    respelled = []
    for tag_id, customer_id, tag in rows:
        clean = _spelling(tag)
        if clean is None or (customer_id, clean) in seen:
            gone.append({"id": tag_id})
            continue
        seen.add((customer_id, clean))
        if clean != tag:
            respelled.append({"tag": clean, "id": tag_id})
    # The repeats go first: the unique key (customer_id, tag) holds at every statement.
    if gone:
        bind.execute(sa.text("DELETE FROM customer_tags WHERE id = :id"), gone)
    if respelled:
        bind.execute(sa.text("UPDATE customer_tags SET tag = :tag WHERE id = :id"), respelled)


def _listed(raw):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return raw if isinstance(raw, list) else []


def _move_column_tags(bind):
    """Each tag of customers.tags as a row of customer_tags, unless the customer has it."""
    now = datetime.now(timezone.utc)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there (models/base.py)
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, workspace_id, tags FROM customers WHERE id > :last "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        wanted = {}
        for customer_id, workspace_id, raw in rows:
            for tag in _listed(raw):
                clean = _spelling(tag)
                if clean is not None:
                    wanted[(customer_id, clean)] = workspace_id
        if not wanted:
            continue
        held = set(
            bind.execute(
                sa.text(
                    "SELECT customer_id, tag FROM customer_tags "
                    "WHERE customer_id > :first AND customer_id <= :last"
                ),
                {"first": rows[0][0] - 1, "last": last},
            ).all()
        )
        new = [
            {"customer_id": c, "tag": t, "workspace_id": w, "created_at": now}
            for (c, t), w in wanted.items()
            if (c, t) not in held
        ]
        if new:
            bind.execute(
                sa.text(
                    "INSERT INTO customer_tags (customer_id, tag, workspace_id, created_at) "
                    "VALUES (:customer_id, :tag, :workspace_id, :created_at)"
                ).bindparams(sa.bindparam("created_at", type_=sa.DateTime(timezone=True))),
                new,
            )


def downgrade():
    # The column comes back empty: the tags stay in customer_tags, where the code of the
    # revision before reads them too. In place on SQLite, as above.
    op.add_column(
        "customers", sa.Column("tags", sa.JSON(), server_default="[]", nullable=False)
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segments_workspace_id"))
    op.drop_table("segments")
