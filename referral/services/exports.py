"""The admin's exports: participants and ledger as CSV, the graph as GraphML, GEXF, JSON or
CSV. Every personal-data export is written to the audit log with who downloaded it."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select

from referral.domain.errors import NotFound
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Customer,
    Event,
    LedgerEntry,
    Marketer,
    Participation,
)
from referral.services import spread

GRAPH_FORMATS = ("graphml", "gexf", "json", "csv")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows instead of running: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading ``'``. Numbers stay numbers,
    times are ISO 8601, None is empty."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def _csv_export(campaign: Campaign, marketer: Marketer | None, what: str, query: Any) -> bytes:
    """The rows of ``query`` (its column labels as header) as neutralised CSV; logged."""
    result = db.session.execute(query)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(result.keys())
    writer.writerows([safe_cell(v) for v in row] for row in result)
    _audit(campaign, marketer, what)
    return buffer.getvalue().encode("utf-8")


def _audit(campaign: Campaign, marketer: Marketer | None, what: str) -> None:
    """Exports of personal data are decisions someone must be able to account for."""
    db.session.add(
        AuditEntry(
            workspace_id=campaign.workspace_id,
            marketer_id=marketer.id if marketer else None,
            action=f"export.{what}",
            subject=f"campaign:{campaign.id}",
            data={},
        )
    )
    db.session.commit()


def export_graph(campaign: Campaign, fmt: str, marketer: Marketer | None) -> tuple[bytes, str, str]:
    """``services.spread.campaign_export`` (content, mimetype, extension), logged.

    :raise NotFound: for a format not in :data:`GRAPH_FORMATS`.
    """
    if fmt not in GRAPH_FORMATS:
        raise NotFound("No such export format.")
    result = spread.campaign_export(campaign, fmt)
    _audit(campaign, marketer, f"graph.{fmt}")
    return result


def _utm(key: str) -> Any:
    return Participation.utm[key].as_string().label(key)


PARTICIPANT_COLUMNS = (
    Participation.id.label("participation_id"),
    Participation.customer_id,
    Customer.email_display.label("email"),
    Customer.name,
    Participation.status,
    Participation.referral_code,
    Participation.referrer_id,
    Participation.depth,
    Participation.channel,
    _utm("utm_source"),
    _utm("utm_medium"),
    _utm("utm_campaign"),
    Participation.locale,
    Participation.created_at,
    Participation.confirmed_at,
)


def participants_csv(campaign: Campaign, marketer: Marketer | None) -> bytes:
    """Every participant of the campaign by id (rejected ones too: ``status`` says so), as
    CSV with the columns of :data:`PARTICIPANT_COLUMNS`; neutralised; logged."""
    return _csv_export(
        campaign,
        marketer,
        "participants",
        select(*PARTICIPANT_COLUMNS)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.campaign_id == campaign.id)
        .order_by(Participation.id),
    )


LEDGER_COLUMNS = (
    LedgerEntry.id.label("entry_id"),
    LedgerEntry.created_at,
    LedgerEntry.participation_id,
    Participation.customer_id,
    Customer.email_display.label("email"),
    LedgerEntry.level,
    LedgerEntry.reward,
    LedgerEntry.amount,
    LedgerEntry.currency,
    LedgerEntry.coupon_code,
    LedgerEntry.status,
    LedgerEntry.reason,
    LedgerEntry.rule_id,
    LedgerEntry.source_event_id,
    Event.kind.label("source_event"),
    LedgerEntry.approve_after,
    LedgerEntry.decided_at,
)


def ledger_csv(campaign: Campaign, marketer: Marketer | None) -> bytes:
    """Every ledger line paid to a participant of the campaign, oldest first (void lines
    too: ``status`` says so), as CSV with :data:`LEDGER_COLUMNS`; neutralised; logged."""
    return _csv_export(
        campaign,
        marketer,
        "ledger",
        select(*LEDGER_COLUMNS)
        .join(Participation, Participation.id == LedgerEntry.participation_id)
        .join(Customer, Customer.id == Participation.customer_id)
        .join(Event, Event.id == LedgerEntry.source_event_id)
        .where(Participation.campaign_id == campaign.id)
        .order_by(LedgerEntry.id),
    )
