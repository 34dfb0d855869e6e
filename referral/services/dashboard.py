"""The campaign dashboard: its numbers and its pygal charts.

Numbers come from ``services.spread.campaign_metrics`` (cached per fingerprint), the
campaign's counters (clicks, participants by status: ``services.counters``) and a few cheap
grouped queries the graph does not hold: conversions and ``utm_source``. The spread view's
data is in ``services.spread_view``, the admin exports in ``services.exports``.
Charts are pygal SVG documents rendered here and served as images: an ``<img>`` runs no
script, so the page keeps its strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

import pygal
from pygal.style import Style
from sqlalchemy import distinct, func, select

from referral.domain import spread as graph
from referral.domain.errors import NotFound
from referral.extensions import db
from referral.models import (
    Campaign,
    Customer,
    Event,
    Participation,
)
from referral.services import campaigns, counters, spread

CONVERSION_EVENTS = ("trial_converted", "purchase")
CHARTS = ("funnel", "growth", "generations", "channels", "sources")
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
        "overview": campaigns.campaign_overview(campaign),
        "sources": utm_sources(campaign),
        "advocates": {
            key: [{**a, **people[a["id"]]} for a in rows if a["id"] in people]
            for key, rows in top.items()
        },
    }


def funnel(campaign: Campaign, metrics: dict[str, Any] | None = None) -> dict[str, int]:
    """Visits → joins → confirmed → converted.

    ``visits`` counts clicks on referral links and QR codes, read from the campaign's
    counter (people who come straight to the landing page join without one, so joins may
    outnumber visits); ``joins`` and ``confirmed`` are the spread graph's ``size`` and
    ``confirmed`` (rejected sign-ups never count); ``converted`` counts participants of the
    graph with a converted trial or a purchase, each once.
    """
    metrics = metrics or spread.campaign_metrics(campaign)
    visits = counters.campaign_counts(campaign.id).get(counters.CLICKS, 0)
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
