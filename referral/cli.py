"""Operator commands: each parses its arguments and calls one service."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from referral import emails
from referral.demo.payments import DEMO_STRIPE_SECRET, demo_receiver, receiver_address
from referral.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, DEMO_WORKSPACE, seed_demo
from referral.domain.draws import verify_record
from referral.domain.errors import DomainError
from referral.services import (
    import_jobs,
    journey_occasions,
    journey_runner,
    outbox,
    retention,
    trials,
)
from referral.services.accounts import check_password_strength, create_admin, find_workspace
from referral.services.api_keys import create_api_key
from referral.services.campaigns import find_campaign
from referral.services.counters import reconcile
from referral.services.draws import run_draw
from referral.services.outbox import deliver_pending
from referral.services.rewards import approve_due
from referral.services.webhook_delivery import deliver_due


def _fail(error: DomainError) -> None:
    # ``ValidationFailed.on`` repeats its message under the field: say it once.
    details = "; ".join(
        f"{k}: {' '.join(v)}" for k, v in error.errors.items() if v != [error.message]
    )
    raise click.ClickException(f"{error.message} {details}".strip())


@click.command("create-admin")
@click.option("--workspace", "workspace_slug", required=True, help="Workspace slug.")
@click.option("--email", required=True, help="The marketer's e-mail.")
@click.option(
    "--password",
    default=None,
    help="At least 10 characters and not a common password; generated if omitted.",
)
@click.option("--role", type=click.Choice(["owner", "editor", "viewer"]), default="owner")
@with_appcontext
def create_admin_command(workspace_slug: str, email: str, password: str | None, role: str) -> None:
    """Create the workspace if missing and a marketer in it (owner by default)."""
    try:
        if password is not None:
            check_password_strength(password, (email, workspace_slug))
        result = create_admin(workspace_slug, email, password, role)
    except DomainError as error:
        _fail(error)
        return
    verb = "Created" if result.created else "Updated"
    click.echo(f"{verb} {role} {result.marketer.email} in workspace {result.workspace.slug}.")
    if result.password:
        click.echo(f"Password: {result.password}")


@click.command("create-api-key")
@click.option("--workspace", "workspace_slug", required=True, help="Workspace slug.")
@click.option("--name", default="CLI key", help="A name to recognise the key by.")
@with_appcontext
def create_api_key_command(workspace_slug: str, name: str) -> None:
    """Print a new API key for the workspace as the last line of output."""
    workspace = find_workspace(workspace_slug)
    if workspace is None:
        raise click.ClickException(f"No workspace {workspace_slug!r}.")
    try:
        key, secret = create_api_key(workspace, name)
    except DomainError as error:
        _fail(error)
        return
    click.echo(f"API key {key.prefix}… for workspace {workspace.slug} (shown once):", err=True)
    click.echo(secret)


@click.command("demo")
@click.option("--participants", default=2500, show_default=True, help="Size of the cascade.")
@with_appcontext
def demo_command(participants: int) -> None:
    """Seed a demo workspace, marketers, campaigns of every kind and a referral cascade."""
    with click.progressbar(length=100, label="Seeding demo data") as bar:
        done = {"n": 0}

        def progress(fraction: float) -> None:
            target = int(fraction * 100)
            bar.update(max(0, target - done["n"]))
            done["n"] = max(done["n"], target)

        summary = seed_demo(participants=participants, progress=progress)
    click.echo(summary)
    click.echo(f"Marketer login: {DEMO_EMAIL} / {DEMO_PASSWORD}  →  /admin")
    workspace = find_workspace(DEMO_WORKSPACE)
    receiver = demo_receiver(workspace.id) if workspace else None
    if receiver is not None:
        click.echo(
            f"Stripe receiver: {receiver_address(receiver)}  (signing secret {DEMO_STRIPE_SECRET})"
        )


@click.command("send-mail")
@click.option("--limit", default=500, show_default=True)
@with_appcontext
def send_mail_command(limit: int) -> None:
    """Deliver queued e-mail from the outbox (SMTP with MAIL_URL, else the log); retries
    failed messages. Run it from cron or a timer; the web app also delivers after sign-ups."""

    click.echo(f"{deliver_pending(limit)} message(s) handled.")


@click.command("send-webhooks")
@click.option("--limit", default=500, show_default=True)
@with_appcontext
def send_webhooks_command(limit: int) -> None:
    """Deliver due webhook events (signed POSTs), retrying failures with back-off. Run it
    every minute from cron or a timer."""

    counts = deliver_due(limit=limit)
    click.echo(
        f"{counts['delivered']} delivered, {counts['retrying']} to retry later, "
        f"{counts['failed']} failed."
    )


@click.command("prune")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650))
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@with_appcontext
def prune_command(days: int, dry_run: bool) -> None:
    """Forget API idempotency keys older than DAYS (a replay after that runs anew), create
    the coming months' partitions, drop the months past RETENTION_CLICKS_DAYS, delete
    finished mail, webhook deliveries, journey logs, audit entries and payment providers'
    receipts past their RETENTION_* days, and the progress entries finished imports left
    in the worker's storage. Run it daily from cron (the worker does it every night)."""

    done = retention.prune(dry_run=dry_run, idempotency_days=days)
    verb = "would be" if dry_run else "were"
    click.echo(f"Partitions created: {', '.join(done.created) or 'none'}.")
    click.echo(f"Partitions dropped: {', '.join(done.dropped) or 'none'}.")
    for name, count in done.deleted.items():
        click.echo(f"{name}: {count} row(s) {verb} deleted.")
    cleared = "would be cleared" if dry_run else "cleared"
    click.echo(f"Import progress of {done.forgotten} finished import(s) {cleared}.")


@click.command("approve-rewards")
@with_appcontext
def approve_rewards_command() -> None:
    """Approve pending rewards whose hold period is over (held-for-review ones stay)."""
    click.echo(f"{approve_due()} reward(s) approved.")


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Queue the "your free trial ends soon" e-mails that are due (each is sent exactly once,
    however often this runs) and deliver the outbox. Run it from cron, e.g. every 10 minutes;
    the huey worker (``referral.tasks``) runs the same job."""

    queued = trials.send_reminders(emails.trial_ending)
    handled = outbox.deliver_pending()
    click.echo(f"{queued} trial reminder(s) queued; {handled} message(s) handled.")


@click.command("run-journeys")
@click.option("--limit", default=500, show_default=True)
@with_appcontext
def run_journeys_command(limit: int) -> None:
    """Enter the birthdays, anniversaries and silences that fell due, advance the journeys'
    due enrolments once (each step runs once, however often this runs, also beside the huey
    worker) and deliver the outbox. Run it every minute from cron."""

    entered = journey_occasions.enrol_occasions()
    advanced = journey_runner.run_due(limit=limit)
    handled = outbox.deliver_pending()
    click.echo(
        f"{entered} enrolment(s) on dates; {advanced} enrolment(s) advanced; "
        f"{handled} message(s) handled."
    )


@click.command("run-imports")
@with_appcontext
def run_imports_command() -> None:
    """Import the CSV files that marketers started and that were too large for a request
    (each in one transaction; one whose worker died is taken again after its lease), then
    deliver the outbox. Run it every minute from cron where no huey worker runs."""

    taken = import_jobs.run_queued(emails.confirmation)
    handled = outbox.deliver_pending() if taken else 0
    click.echo(f"{taken} import(s) run; {handled} message(s) handled.")


@click.command("verify-draw")
@click.argument("file", type=click.File("rb"))
def verify_draw_command(file: Any) -> None:
    """Re-derive a draw's winners from its published JSON (no database needed) and say
    whether they match. Exit status 0 when verified, 1 when any check fails."""

    try:
        record = json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"Not a JSON draw record: {error}") from None
    report = verify_record(record if isinstance(record, dict) else {})
    for check in report.checks:
        click.echo(f"{'ok  ' if check.passed else 'FAIL'} {check.name}: {check.message}")
    if not report.ok:
        click.echo("NOT VERIFIED")
        raise SystemExit(1)
    click.echo("VERIFIED: the published winners follow from the seed and the entries.")


@click.command("draw")
@click.argument("campaign_id", type=int)
@click.option("--winners", type=click.IntRange(1, 10_000), required=True, help="How many winners.")
@click.option("--alternates", type=click.IntRange(0, 10_000), default=None, help="Default: rules.")
@click.option("--beacon", default="", help="Public randomness announced in the rules, if any.")
@with_appcontext
def draw_command(campaign_id: int, winners: int, alternates: int | None, beacon: str) -> None:
    """Draw a closed lottery's winners, once (the same as POST /api/v1/campaigns/ID/draws)."""
    campaign = find_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"No campaign {campaign_id}.")
    try:
        draw = run_draw(campaign, winners, alternates, beacon, compose=emails.draw_winner)
    except DomainError as error:
        _fail(error)
        return
    click.echo(f"Draw {draw.id} of campaign {campaign_id}: {draw.record['entries_digest']}")
    click.echo(f"Winners: {', '.join(draw.record['winners']) or '-'}")
    click.echo(f"Alternates: {', '.join(draw.record['alternates']) or '-'}")
    click.echo(f"Verify: /draws/{draw.id}/verify")


@click.command("reconcile-counters")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this campaign.")
@with_appcontext
def reconcile_counters_command(campaign_id: int | None) -> None:
    """Recount the clicks, sign-up and referral counters from their rows and correct each
    one that differed (every campaign, or one). Safe while the site runs."""
    if campaign_id is not None and find_campaign(campaign_id) is None:
        raise click.ClickException(f"No campaign {campaign_id}.")
    drifts = reconcile(campaign_id)
    for drift in drifts:
        whose = f"participant {drift.participation_id}" if drift.participation_id else "campaign"
        click.echo(
            f"campaign {drift.campaign_id}, {whose}, {drift.name}: "
            f"counted {drift.counted}, actual {drift.actual}"
        )
    click.echo(f"{len(drifts)} counter(s) corrected.")


COMMANDS = (
    create_admin_command,
    create_api_key_command,
    demo_command,
    send_mail_command,
    send_webhooks_command,
    prune_command,
    approve_rewards_command,
    send_reminders_command,
    run_journeys_command,
    run_imports_command,
    verify_draw_command,
    draw_command,
    reconcile_counters_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from referral import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """referral: operator commands (the same as ``flask --app referral …``)."""
