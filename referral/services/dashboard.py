"""The campaign dashboard, the data of the interactive spread view, and the admin exports.

Numbers come from ``services.spread.campaign_metrics`` (cached per fingerprint), plus a few
cheap grouped queries the graph does not hold: clicks, conversions and ``utm_source``.
Charts are pygal SVG documents rendered here and served as images: an ``<img>`` runs no
script, so the page keeps its strict Content-Security-Policy.

The spread view never carries a full e-mail address: its labels are masked
(``j***@g***.com``) and the customer id links to the person's page. Personal-data exports
(participants, ledger, graph) are written to the audit log with who downloaded them.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, datetime
from typing import Any

import pygal
from pygal.style import Style
from sqlalchemy import distinct, func, or_, select

from referral.domain import spread as graph
from referral.domain.emails import mask_email
from referral.domain.errors import NotFound
from referral.extensions import db
from referral.models import (
    AuditEntry,
    Campaign,
    Click,
    Customer,
    Event,
    LedgerEntry,
    Marketer,
    Participation,
)
from referral.services import spread
from referral.services.customers import clean_search

CONVERSION_EVENTS = ("trial_converted", "purchase")
CHARTS = ("funnel", "growth", "generations", "channels", "sources")
GRAPH_FORMATS = ("graphml", "gexf", "json", "csv")
VIEW_MAX_NODES = 5_000  # default of the REFERRAL_SPREAD_VIEW_MAX_NODES setting
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1c2333",
    foreground_strong="#1c2333",
    foreground_subtle="#525c70",
    font_family='system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif',
    colors=("#3346d3", "#0f9d58", "#e0a000", "#d93f87", "#0b8fb3", "#7a4fd1", "#e8590c"),
    title_font_size=22,
    legend_font_size=17,
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=15,
    tooltip_font_size=15,
)


# --- the dashboard -----------------------------------------------------------------------


def dashboard(campaign: Campaign) -> dict[str, Any]:
    """Everything the dashboard shows: ``metrics`` (see ``domain.spread.metrics``),
    ``funnel``, ``sources`` and ``advocates`` (top advocates with their customer)."""
    metrics = spread.campaign_metrics(campaign)
    top = metrics["top_advocates"]
    people = _people([a["id"] for a in top["by_direct"] + top["by_subtree"]])
    return {
        "metrics": metrics,
        "funnel": funnel(campaign, metrics),
        "sources": utm_sources(campaign),
        "advocates": {
            key: [{**a, **people[a["id"]]} for a in rows if a["id"] in people]
            for key, rows in top.items()
        },
    }


def funnel(campaign: Campaign, metrics: dict[str, Any] | None = None) -> dict[str, int]:
    """Visits → joins → confirmed → converted.

    ``visits`` counts clicks on referral links and QR codes (people who come straight to the
    landing page join without one, so joins may outnumber visits); ``joins`` and
    ``confirmed`` are the spread graph's ``size`` and ``confirmed`` (rejected sign-ups never
    count); ``converted`` counts participants of the graph with a converted trial or a
    purchase, each once.
    """
    metrics = metrics or spread.campaign_metrics(campaign)
    visits = db.session.scalar(
        select(func.count()).select_from(Click).where(Click.campaign_id == campaign.id)
    )
    converted = db.session.scalar(
        select(func.count(distinct(Event.participation_id)))
        .join(Participation, Participation.id == Event.participation_id)
        .where(
            Event.campaign_id == campaign.id,
            Event.kind.in_(CONVERSION_EVENTS),
            Participation.status != graph.REJECTED,
        )
    )
    return {
        "visits": int(visits or 0),
        "joins": metrics["size"],
        "confirmed": metrics["confirmed"],
        "converted": int(converted or 0),
    }


def utm_sources(campaign: Campaign) -> dict[str, int]:
    """Joins per ``utm_source`` (participants without one are left out), most first."""
    source = Participation.utm["utm_source"].as_string()
    rows = db.session.execute(
        select(source, func.count())
        .where(
            Participation.campaign_id == campaign.id,
            Participation.status != graph.REJECTED,
            source.is_not(None),
        )
        .group_by(source)
    ).all()
    counts = Counter({str(name): int(n) for name, n in rows if name})
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _people(participation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Customer id and address of each participation, in one query."""
    if not participation_ids:
        return {}
    rows = db.session.execute(
        select(Participation.id, Customer.id, Customer.email_display)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.id.in_(set(participation_ids)))
    )
    return {pid: {"customer_id": cid, "email": email} for pid, cid, email in rows}


# --- charts ------------------------------------------------------------------------------


def chart_svg(campaign: Campaign, name: str, labels: dict[str, str]) -> str:
    """One chart of the dashboard as a stand-alone SVG document: one of :data:`CHARTS`.

    ``labels`` holds the words, already translated: ``title``, ``no_data`` and the series
    names the chart uses. pygal's inline script is removed (an image would not run it).

    :raise NotFound: for a name not in :data:`CHARTS`.
    """
    builders = {
        "funnel": _funnel_chart,
        "growth": _growth_chart,
        "generations": _generations_chart,
        "channels": _channels_chart,
        "sources": _sources_chart,
    }
    if name not in builders:
        raise NotFound("No such chart.")
    data: dict[str, Any] = {"metrics": spread.campaign_metrics(campaign)}
    if name == "funnel":
        data["funnel"] = funnel(campaign, data["metrics"])
    elif name == "sources":
        data["sources"] = utm_sources(campaign)
    options = {
        "style": _STYLE,
        "title": labels["title"],
        "no_data_text": labels["no_data"],
        "disable_xml_declaration": True,
        "js": [],
        "width": 720,
        "height": 440,
        "value_formatter": _whole,
        "legend_at_bottom": True,
        "truncate_legend": 40,
    }
    chart = builders[name](data, labels, options)
    return _SCRIPT.sub("", chart.render())


def _whole(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _funnel_chart(data: dict[str, Any], labels: dict[str, str], options: dict[str, Any]) -> Any:
    steps = data["funnel"]
    chart = pygal.HorizontalBar(print_values=True, show_legend=False, **options)
    chart.x_labels = [labels[step] for step in reversed(steps)]
    chart.add(labels["title"], list(reversed(steps.values())) if any(steps.values()) else [])
    return chart


def _growth_chart(data: dict[str, Any], labels: dict[str, str], options: dict[str, Any]) -> Any:
    days = data["metrics"]["growth_by_day"]
    chart = pygal.DateLine(
        x_label_rotation=25,
        x_value_formatter=lambda day: day.isoformat(),
        show_dots=len(days) <= 60,
        **options,
    )
    when = [date.fromisoformat(day["date"]) for day in days]
    series = (("joined", False), ("confirmed", False), ("cumulative", True))
    # pygal fails on an empty series on the secondary axis: no days, no series ("no data").
    for key, secondary in series if days else ():
        values = [(d, day[key]) for d, day in zip(when, days, strict=True)]
        chart.add(labels[key], values, secondary=secondary)
    return chart


def _generations_chart(
    data: dict[str, Any], labels: dict[str, str], options: dict[str, Any]
) -> Any:
    generations = data["metrics"]["growth_by_generation"]
    chart = pygal.Bar(**options)
    chart.x_labels = [str(g["depth"]) for g in generations]
    chart.x_title = labels["x_title"]
    chart.add(labels["joined"], [g["joined"] for g in generations])
    chart.add(labels["confirmed"], [g["confirmed"] for g in generations])
    return chart


def _channels_chart(data: dict[str, Any], labels: dict[str, str], options: dict[str, Any]) -> Any:
    chart = pygal.Pie(inner_radius=0.45, print_values=True, **options)
    for channel, count in sorted(data["metrics"]["channels"].items(), key=lambda c: -c[1]):
        chart.add(channel, count)
    return chart


def _sources_chart(data: dict[str, Any], labels: dict[str, str], options: dict[str, Any]) -> Any:
    sources = list(data["sources"].items())[:15]
    chart = pygal.HorizontalBar(print_values=True, show_legend=False, **options)
    chart.x_labels = [name for name, _count in reversed(sources)]
    chart.add(labels["title"], [count for _name, count in reversed(sources)])
    return chart


# --- the interactive spread view ---------------------------------------------------------


def spread_view(
    campaign: Campaign, max_nodes: int, root: int | None = None, after: int | None = None
) -> dict[str, Any]:
    """The campaign's graph for the browser, cut to ``max_nodes`` by ``spread.collapse``.

    Without ``root`` and ``after``: the whole graph. With them, one group (aggregate) is
    opened: ``root`` (a participation id) and those of its referees with an id above
    ``after``, with everyone below them; without ``root``, the roots with an id above
    ``after`` and their trees. ``collapse`` keeps the shallowest nodes in id order, so the
    referees above the highest one drawn are exactly those in the group, however often it
    was opened before. Depths stay those of the whole graph. Each node carries
    ``customer_id``, ``direct`` (direct referrals in the graph) and a masked address as
    ``label``, never the address.

    :raise NotFound: when ``root`` is not a participant of the graph of this campaign.
    """
    path = _root_path(campaign.id, root) if root is not None else None
    rows = _view_rows(campaign.id, root, path)
    nodes = [graph.Node(*row[:6], label=mask_email(row[7])) for row in rows]
    customers = {row[0]: row[6] for row in rows}
    direct = Counter(n.referrer_id for n in nodes if n.status != graph.REJECTED)
    offset, parent = _placement(campaign.id, path) if path is not None else (0, None)
    if root is not None or after is not None:
        nodes = _group(nodes, root, after or 0)
    view = graph.collapse(nodes, max_nodes)
    for node in view["nodes"]:
        if node.get("aggregate"):
            continue
        node["customer_id"] = customers[node["id"]]
        node["direct"] = direct[node["id"]]
        node["depth"] += offset
        if node["id"] == root:
            node["referrer_id"] = parent
    shown = sum(1 for n in view["nodes"] if not n.get("aggregate"))
    size = shown + sum(n["count"] for n in view["nodes"] if n.get("aggregate"))
    return {"root": root, "size": size, "shown": shown, "max_nodes": max_nodes, **view}


def _root_path(campaign_id: int, root: int) -> str:
    """:raise NotFound: when ``root`` is no participant of the campaign's graph."""
    path = db.session.scalar(
        select(Participation.path).where(
            Participation.id == root,
            Participation.campaign_id == campaign_id,
            Participation.status != graph.REJECTED,
        )
    )
    if path is None:
        raise NotFound("No such participant in this campaign.")
    return path


def _view_rows(campaign_id: int, root: int | None, path: str | None) -> list[Any]:
    """(id, referrer, status, created, confirmed, channel, customer id, address) in id
    order: every participant, or ``root`` and everyone whose ``path`` runs through it."""
    query = (
        select(
            Participation.id,
            Participation.referrer_id,
            Participation.status,
            Participation.created_at,
            Participation.confirmed_at,
            Participation.channel,
            Participation.customer_id,
            Customer.email_display,
        )
        .join(Customer, Customer.id == Participation.customer_id)
        .where(Participation.campaign_id == campaign_id)
        .order_by(Participation.id)
    )
    if root is not None:
        below = Participation.path.startswith(f"{path}{root}/", autoescape=True)
        query = query.where(or_(Participation.id == root, below))
    return list(db.session.execute(query))


def _group(nodes: list[graph.Node], root: int | None, after: int) -> list[graph.Node]:
    """``root`` and its referees above ``after`` (without ``root``: the roots above
    ``after``), with their descendants in the graph. A rejected participant is not in the
    graph: their referees are roots of their own trees."""
    rejected = {n.id for n in nodes if n.status == graph.REJECTED}
    kept: set[int] = set() if root is None else {root}
    for node in nodes:  # id order: a referrer comes before its referees
        if node.status == graph.REJECTED or node.id == root:
            continue
        if root is None:
            top = node.referrer_id is None or node.referrer_id in rejected
        else:
            top = node.referrer_id == root
        if (node.id > after) if top else (node.referrer_id in kept):
            kept.add(node.id)
    return [n for n in nodes if n.id in kept]


def _graph_ancestors(campaign_id: int, path: str) -> list[int]:
    """The ids on ``path`` below its last rejected participant, root first: the ancestors
    in the graph (a rejected referrer makes its referee a root)."""
    ancestors = [int(part) for part in path.strip("/").split("/") if part]
    rejected = set(
        db.session.scalars(
            select(Participation.id).where(
                Participation.campaign_id == campaign_id,
                Participation.id.in_(ancestors),
                Participation.status == graph.REJECTED,
            )
        )
    )
    cut = max((i for i, ancestor in enumerate(ancestors) if ancestor in rejected), default=-1)
    return ancestors[cut + 1 :]


def _placement(campaign_id: int, path: str) -> tuple[int, int | None]:
    """(Depth, referrer) in the graph of the participant at ``path``."""
    ancestors = _graph_ancestors(campaign_id, path)
    return len(ancestors), ancestors[-1] if ancestors else None


def find_node(campaign: Campaign, term: str) -> dict[str, Any] | None:
    """The participant of the graph with this exact referral code, else the first (by id)
    whose address contains ``term`` in any case: ``{"id", "ancestors"}`` (its ancestors in
    the graph from the root down, so a collapsed view knows which groups to open). None when nothing
    matches or ``term`` is empty."""
    term = clean_search(term)
    if not term:
        return None
    lower = term.lower()
    found = db.session.execute(
        select(Participation.id, Participation.path)
        .join(Customer, Customer.id == Participation.customer_id)
        .where(
            Participation.campaign_id == campaign.id,
            Participation.status != graph.REJECTED,
            or_(
                Participation.referral_code == term,
                func.lower(Customer.email_display).contains(lower, autoescape=True),
                Customer.email.contains(lower, autoescape=True),
            ),
        )
        .order_by((Participation.referral_code == term).desc(), Participation.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    return {"id": found.id, "ancestors": _graph_ancestors(campaign.id, found.path)}


# --- exports -----------------------------------------------------------------------------


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
