"""integrations: inbound receivers of payment providers' events (``inbound_hooks``: the
provider, the public key of the address, the signing secret and an optional campaign) and
``campaigns.webhook_events``, the events the workspace's active webhook endpoints subscribe
to, filled from the endpoints already stored

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:20:00

"""

import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "provider IN ('stripe', 'shopify')", name=op.f("ck_inbound_hooks_provider")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_inbound_hooks_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_inbound_hooks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_hooks")),
        sa.UniqueConstraint("key", name=op.f("uq_inbound_hooks_key")),
        sa.UniqueConstraint(
            "workspace_id", "provider", name=op.f("uq_inbound_hooks_workspace_id_provider")
        ),
    )
    with op.batch_alter_table("inbound_hooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_hooks_workspace_id"), ["workspace_id"], unique=False
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("webhook_events", sa.JSON(), server_default="[]", nullable=False)
        )
    _fill_webhook_events()


def _fill_webhook_events():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT workspace_id, events FROM webhook_endpoints WHERE active = :on ORDER BY id"
        ),
        {"on": True},
    ).all()
    hooked = {}
    for workspace_id, events in rows:
        chosen = hooked.setdefault(workspace_id, [])
        for name in json.loads(events) if isinstance(events, str) else events:
            if name not in chosen:
                chosen.append(name)
    for workspace_id, events in hooked.items():
        bind.execute(
            sa.text("UPDATE campaigns SET webhook_events = :events WHERE workspace_id = :ws"),
            {"events": json.dumps(events), "ws": workspace_id},
        )


def downgrade():
    # Not a batch on SQLite: recreating campaigns would drop the old table, and with foreign
    # keys on that deletes every row that cascades from a campaign (participations, clicks).
    op.drop_column("campaigns", "webhook_events")
    with op.batch_alter_table("inbound_hooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_hooks_workspace_id"))
    op.drop_table("inbound_hooks")
