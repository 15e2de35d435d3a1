"""`megafon report-mail`: the board's monthly report by e-mail, now, for a month you name.

    megafon report-mail --period 2014-08 --dry-run   # who would get it; nothing is sent
    megafon report-mail --period 2014-08             # plan August (if not yet) and send

The scheduled job (`send_board_reports` in every worker) does this on the day; this command is
for the operator who wants a month sent now, or to see who gets it. A month is planned once,
whoever plans it: run twice, the second run sends only what is still waiting (a failed copy,
for instance). Without --period, last month. Exit code 2 with "error: …" for a month that
cannot be read or e-mail that is not configured.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.mail import MailSender
from core.settings import Settings, SettingsError
from reports import mailing
from reports.period import PeriodError


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.command("report-mail")
@click.option("--period", default="", help="The month, as 2014-08 (default: last month).")
@click.option("--dry-run", is_flag=True, help="Only say who would get it; send nothing.")
def report_mail(period: str, dry_run: bool) -> None:
    """E-mail the board's report of a month to its recipients now."""
    try:
        settings = Settings.from_env()
        month = mailing.month_of(period, utcnow().astimezone(STOCKHOLM).date())
    except (SettingsError, PeriodError) as exc:
        fail(str(exc))
    sender = MailSender.from_settings(settings)
    if not dry_run and not sender.configured:
        fail("e-mail is not configured (MEGAFON_SMTP_URL is empty)")
    database = Database(settings.database_url)
    try:
        if dry_run:
            planned, copies = mailing.preview(database, month,
                                              default_locale=settings.default_locale)
            said = "planned" if planned else "not planned yet; would go to"
            click.echo(f"{month.token()}: {said} {len(copies)} recipient(s)")
            for copy in copies:
                state = f" {copy.state}" if copy.state else ""
                error = f" ({copy.error})" if copy.error else ""
                click.echo(f"  {copy.email} [{copy.language}]{state}{error}")
            return
        from web.reports import paper_maker

        planned_now = mailing.plan_due(database, own_party=settings.own_party, period=month)
        done = mailing.send_waiting(database, sender, paper_maker(settings))
    finally:
        database.dispose()
    click.echo(f"{month.token()}: {'planned now' if planned_now else 'planned before'}; "
               f"sent {done.sent}, to try again {done.failed}, given up {done.gave_up}")
