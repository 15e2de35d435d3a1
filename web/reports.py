"""Rapporter: the board's report of media visibility over a period, its charts and its CSVs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from core.auth import Action
from core.clock import STOCKHOLM, utcnow
from core.settings import Settings
from monitor import sentiment
from publisher.services import Services
from reports import board, charts, export, pdf, snapshots, tables
from reports.period import KINDS, Period, PeriodError, parse
from web.context import db_session, services
from web.mentions import KIND_LABELS
from web.permissions import requires

bp = Blueprint("reports", __name__)
logger = logging.getLogger(__name__)


def _today() -> date:
    return utcnow().astimezone(STOCKHOLM).date()


def _period() -> tuple[Period, str | None]:
    """The period asked for, or last month with the reason the asked one could not be read."""
    args = request.args
    try:
        return parse(args.get("period"), _today(), first=args.get("from") or None,
                     last=args.get("to") or None), None
    except PeriodError as error:
        return parse(None, _today()), _(error.message, **error.params)


def _report() -> tuple[board.Report, datetime, str | None]:
    """The report asked for (from its snapshot while young), when it was counted, and why the
    period asked for could not be read, if it could not."""
    period, problem = _period()
    session = db_session()
    report, counted = snapshots.cached_report(session, current_user, period,
                                              own_party=services().settings.own_party)
    try:
        session.commit()
    except SQLAlchemyError:  # the figures are here; storing them for the next reader failed
        session.rollback()
        logger.exception("cannot store the report snapshot")
    return report, counted, problem


def _locale() -> str:
    return str(get_locale() or "sv")


def _bucket_label(bucket: Any, grain: str, locale: str) -> str:
    if grain == "day":
        return format_date(bucket.first, "d MMM", locale=locale)
    if grain == "week":
        return _("w. %(week)s", week=bucket.first.isocalendar().week)
    return format_date(bucket.first, "MMM yyyy", locale=locale)


ISSUES_SHOWN = 25  # the page is read in ten minutes; the CSV and XLSX hold every issue


def _charts_of(report: board.Report, counted: datetime, locale: str) -> dict[str, charts.Chart]:
    """The charts of a report snapshot in a language, drawn once per snapshot and language in
    this process (a snapshot's figures never change; drawing them is a third of the page)."""
    key = (services().settings.database_url, report.period.first, report.period.last,
           report.own_party, report.publishing.scope if report.publishing else "", counted,
           locale)
    with _drawing:
        found = _drawn.get(key)
    if found is None:
        found = _charts(report, locale, counted)
        with _drawing:
            while len(_drawn) >= 64:
                _drawn.pop(next(iter(_drawn)))
            _drawn[key] = found
    return found


_drawn: dict[tuple[object, ...], dict[str, charts.Chart]] = {}
_drawing = threading.Lock()


def _until(values: list[Any], report: board.Report, counted: datetime) -> list[Any]:
    """A series with the buckets that had not begun when the figures were counted left empty
    (this month's last weeks are not yet, not zero)."""
    return [value if bucket.start <= counted else None
            for value, bucket in zip(values, report.buckets, strict=True)]


def _charts(report: board.Report, locale: str, counted: datetime
            ) -> dict[str, charts.Chart]:
    counts, shares = charts.count_formatter(locale), charts.share_formatter(locale)
    labels = [_bucket_label(b, report.period.grain, locale) for b in report.buckets]
    top = report.issues[:10]
    ours = report.publishing
    voice = sorted(report.voice, key=lambda r: -r.count)
    own = next((i for i, r in enumerate(voice) if r.party == report.own_party), None)
    return {
        "over_time": charts.line(
            labels, _until(report.series, report, counted), title=_("Mentions over time"),
            formatter=counts,
            alt=_("Line chart of mentions per %(grain)s: %(total)s in all, most on %(peak)s.",
                  grain=_grain_word(report.period.grain), total=counts(report.total),
                  peak=labels[report.series.index(max(report.series))] if report.series
                  and max(report.series) else "–")),
        "issues": charts.bars(
            [r.name for r in top], [r.count for r in top], title=_("Mentions per issue"),
            formatter=counts,
            alt=_("Bar chart of the issues with most mentions: %(list)s.",
                  list=", ".join(f"{r.name} {counts(r.count)}" for r in top) or "–")),
        "voice": charts.bars(
            [f"{r.party} ({_('we')})" if r.party == report.own_party else r.party
             for r in voice], [r.share for r in voice], title=_("Share of voice"),
            formatter=shares, highlight=own,
            alt=_("Bar chart of each party's share of the parties named: %(list)s.",
                  list=", ".join(f"{r.party} {shares(r.share)}" for r in voice))),
        "tone": _tone_chart(report, labels, shares, counted),
        "voice_over_time": _voice_chart(report, labels, shares, counted),
        "said": charts.two_lines(
            labels, _until(report.series, report, counted),
            _until(ours.series if ours else [0] * len(labels), report, counted),
            titles=(_("Mentions in media"), _("Our publications (right axis)")),
            title=_("What media wrote and what we said"), formatter=counts,
            alt=_("Line chart of mentions in media per %(grain)s (%(mentions)s in all, solid "
                  "line) and our own publications (%(posts)s in all, dashed line, right axis).",
                  grain=_grain_word(report.period.grain), mentions=counts(report.total),
                  posts=counts(ours.count if ours else 0))),
    }


def _voice_chart(report: board.Report, labels: list[str], shares: Any, counted: datetime
                 ) -> charts.Chart:
    """Our share of voice per bucket beside that of the party named most in the period."""
    series = report.voice_series
    whole = [sum(series[code][i] for code in series) for i in range(len(labels))]
    rivals = [r for r in sorted(report.voice, key=lambda r: -r.count)
              if r.party != report.own_party]
    rival = rivals[0].party if rivals and rivals[0].count else None

    def share(code: str | None) -> list[float | None]:
        counts = series.get(code or "", [0] * len(labels))
        return [counts[i] / whole[i] if whole[i] else None for i in range(len(labels))]

    own = share(report.own_party)
    other = share(rival)
    return charts.two_lines(
        labels, _until(own, report, counted), _until(other, report, counted),
        titles=(f"{report.own_party} ({_('we')})", rival or "–"),
        title=_("Share of voice over time"), formatter=shares, one_axis=True,
        alt=_("Line chart of our share of the parties named per %(grain)s (solid line) beside "
              "that of %(rival)s, the party named most (dashed line).",
              grain=_grain_word(report.period.grain), rival=rival or "–"))


def _tone_chart(report: board.Report, labels: list[str], shares: Any, counted: datetime
                ) -> charts.Chart:
    """Of each bucket's scored mentions, the share positive and the share negative."""
    series = report.tone_series
    scored = [sum(series.get(t, [0] * len(labels))[i] for t in board.TONES)
              for i in range(len(labels))]
    def share(tone: str) -> list[float | None]:
        counts = series.get(tone, [0] * len(labels))
        return [counts[i] / scored[i] if scored[i] else None for i in range(len(labels))]

    positive, negative = share("positive"), share("negative")
    def mean(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return sum(known) / len(known) if known else None

    return charts.two_lines(
        labels, _until(positive, report, counted), _until(negative, report, counted),
        titles=(_("Positive"), _("Negative")),
        title=_("Tone over time"), formatter=shares, one_axis=True,
        alt=_("Line chart of the share of positive (solid line) and negative (dashed line) "
              "mentions per %(grain)s; on average %(positive)s positive and %(negative)s "
              "negative.", grain=_grain_word(report.period.grain),
              positive=shares(mean(positive)), negative=shares(mean(negative))))


def _grain_word(grain: str) -> str:
    return {"day": _("day"), "week": _("week"), "month": _("month")}[grain]


@bp.get("/reports")
@requires(Action.VIEW_REPORTS)
def index() -> str:
    report, counted, problem = _report()
    if problem:
        flash(problem, "warning")
    return render_template("reports/index.html", report=report, kinds=KINDS,
                           kind_labels=_kind_labels(), body=_body_of(report, counted, _locale()))


def _body_of(report: board.Report, counted: datetime, locale: str) -> Markup:
    """The report's figures, tables and charts as HTML, rendered once per snapshot, scope,
    period and language in this process: a snapshot never changes, and rendering its some
    hundred rows and numbers is most of the page's time when a board meets around it."""
    ours = report.publishing
    key = (services().settings.database_url, report.period.token(), report.period.first,
           report.period.last, report.own_party, ours.scope if ours else "", counted, locale)
    with _drawing:
        found = _bodies.get(key)
    if found is None:
        found = Markup(render_template(
            "reports/_body.html", report=report, charts=_charts_of(report, counted, locale),
            issues_shown=ISSUES_SHOWN, counted=counted,
            max_age=int(snapshots.MAX_AGE.total_seconds() // 60), **_tone_figures(),
            kind_of=KIND_LABELS, watchlist_names=_watchlist_names(report),
            said=_said(report)[:ISSUES_SHOWN]))
        with _drawing:
            while len(_bodies) >= 16:
                _bodies.pop(next(iter(_bodies)))
            _bodies[key] = found
    return found


_bodies: dict[tuple[object, ...], Markup] = {}


def _watchlist_names(report: board.Report) -> dict[int, str]:
    names = {r.watchlist_id: r.name for r in report.issues}
    if report.publishing:
        names.update({w: row.name for w, row in report.publishing.by_issue.items()})
    return names


def _said(report: board.Report) -> list[dict[str, Any]]:
    """Per issue, the coverage beside our publications: the rows of the "posts" table."""
    header, rows = tables.rows(report, "posts")
    return [dict(zip(header, row, strict=True)) for row in rows]


def _tone_figures() -> dict[str, Any]:
    """How far the tone figure can be trusted, said beside it."""
    return {"tone_agreed": sentiment.MEASURED_AGREED, "tone_total": sentiment.MEASURED_TOTAL,
            "tone_accuracy": sentiment.MEASURED_ACCURACY}


def _kind_labels() -> dict[str, str]:
    return {"this-week": _("This week"), "last-week": _("Last week"),
            "this-month": _("This month"), "last-month": _("Last month"),
            "this-quarter": _("This quarter"), "last-quarter": _("Last quarter"),
            "this-year": _("This year")}


@bp.get("/reports/<table>.csv")
@requires(Action.VIEW_REPORTS)
def table_csv(table: str) -> Response:
    """The rows behind one of the report's tables, as CSV (UTF-8 with BOM, for Excel)."""
    if table not in tables.TABLES:
        abort(404)
    report, _counted, _problem = _report()
    return _download(export.csv_table(report, table), "text/csv",
                     f"megafon-{table}-{_file_period(report)}.csv")


@bp.get("/reports/report.xlsx")
@requires(Action.VIEW_REPORTS)
def workbook() -> Response:
    """Every table of the report as one workbook, a sheet each."""
    report, counted, _problem = _report()
    return _download(export.xlsx(report, _organisation(), counted), XLSX,
                     f"megafon-rapport-{_file_period(report)}.xlsx")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/reports/report.pdf")
@requires(Action.VIEW_REPORTS)
def paper() -> Response:
    """The report as a board paper: A4, a title page, the charts and the tables."""
    report, counted, _problem = _report()
    return _download(render_paper(report, counted, _organisation()), "application/pdf",
                     f"megafon-rapport-{_file_period(report)}.pdf")


def render_paper(report: board.Report, counted: datetime, organisation: str) -> bytes:
    """The board paper as PDF in the current language (a request context, or the command
    line's, with the locale forced)."""
    html = render_template("reports/paper.html", report=report, counted=counted,
                           charts=_charts_of(report, counted, _locale()),
                           organisation=organisation, issues_shown=ISSUES_SHOWN,
                           kind_of=KIND_LABELS, watchlist_names=_watchlist_names(report),
                           said=_said(report)[:ISSUES_SHOWN], **_tone_figures())
    return pdf.from_html(html)


Paper = Callable[[board.Report, datetime, str, str], bytes]


def paper_maker(settings: Settings, services: Services | None = None) -> Paper:
    """The board paper outside any request (`megafon report`, the monthly e-mail): a function
    of (report, counted, organisation, language) that renders through this app's template,
    charts and translations, in a request context of its own with the language forced. The app
    is built once per maker; renderings in one process take turns (WeasyPrint is not known to
    be thread-safe, and a worker renders a paper a month)."""
    from flask_babel import force_locale

    from web import create_app

    app = create_app(settings, services)
    turns = threading.Lock()

    def make(report: board.Report, counted: datetime, organisation: str,
             language: str) -> bytes:
        with turns, app.test_request_context(), force_locale(language):
            return render_paper(report, counted, organisation)

    return make


def _organisation() -> str:
    return current_user.organisation.name if current_user.organisation else "Megafon"


def _file_period(report: board.Report) -> str:
    return report.period.token().replace("..", "_")


def _download(body: str | bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
