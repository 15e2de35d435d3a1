"""Länet and Valplan: the county's municipalities and the weeks to election day.

Views read a form, call one service of campaigns/ (county, election) and render; the services
check who may do what, so a board member sees the pages and is refused every change there.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from campaigns import county as service
from campaigns import election as plans
from campaigns.models import Municipality
from core.auth import Action
from core.i18n import ValidationErrors
from web.context import db_session
from web.forms import PlainForm, Rendered, SafeForm, form_errors, submit
from web.permissions import requires

bp = Blueprint("county", __name__)


class PeriodForm(PlainForm):
    """The county page's period: two Stockholm days, typed ÅÅÅÅ-MM-DD (a GET filter)."""

    first = StringField(_l("From"), validators=[Length(max=20)])
    last = StringField(_l("To"), validators=[Length(max=20)])


class CoverageForm(SafeForm):
    municipality_id = SelectField(_l("Municipality"), validate_choice=False)
    organisation_id = SelectField(_l("Association"), validate_choice=False)


class ElectionDayForm(SafeForm):
    day = StringField(_l("Election day"), validators=[Length(max=20)])


def _period(form: PeriodForm) -> tuple[service.Span, ValidationErrors | None]:
    """The period asked for, or the default one with the reasons the asked one would not do."""
    day = service.today()
    if not form.validate():
        return service.default_span(day), form_errors(form)
    try:
        return service.read_span(form.first.data or "", form.last.data or "", day), None
    except ValidationErrors as exc:
        return service.default_span(day), exc


def _county_page(errors: ValidationErrors | None = None,
                 coverage_form: CoverageForm | None = None) -> Rendered:
    session = db_session()
    period_form = PeriodForm(request.args)
    span, period_errors = _period(period_form)
    if period_errors is None:
        period_form.first.data, period_form.last.data = f"{span.first}", f"{span.last}"
    found = service.county(session, current_user, span)
    coverage_form = coverage_form or CoverageForm(formdata=None)
    coverage_form.municipality_id.choices = [
        SelectChoice(str(m.id), m.name) for m in service.municipalities(session)]
    coverage_form.organisation_id.choices = [SelectChoice("", _("No association"))] + [
        SelectChoice(str(o.id), o.name) for o in service.associations(session)]
    status = 422 if errors or period_errors else 200
    return render_template("county/index.html", county=found, period_form=period_form,
                           period_errors=period_errors, errors=errors,
                           coverage_form=coverage_form,
                           may_manage=service.may_change(current_user)), status


@bp.get("/county")
@requires(Action.VIEW_CAMPAIGNS)
def index() -> Rendered:
    return _county_page()


@bp.post("/county/coverage")
@requires(Action.MANAGE_CAMPAIGNS)
def coverage() -> Response | Rendered:
    form = CoverageForm()
    form.municipality_id.choices = form.organisation_id.choices = []

    def change(session: Session) -> Municipality:
        return service.set_coverage(session, current_user, form.municipality_id.data or "",
                                    form.organisation_id.data or "")

    def done(municipality: Municipality) -> Response:
        if municipality.organisation is None:
            flash(_("%(municipality)s has no association now.",
                    municipality=municipality.name), "success")
        else:
            flash(_("%(association)s covers %(municipality)s now.",
                    association=municipality.organisation.name,
                    municipality=municipality.name), "success")
        return redirect(url_for("county.index", _anchor=f"m-{municipality.id}"))

    return submit(form, change, done, lambda errors: _county_page(errors, form))


def _election_page(errors: ValidationErrors | None = None,
                   form: ElectionDayForm | None = None) -> Rendered:
    session = db_session()
    found = plans.plan(session, current_user)
    form = form or ElectionDayForm(formdata=None,
                                   day=found.election.day.isoformat()
                                   if found.election.chosen else "")
    return render_template("county/election.html", plan=found, form=form, errors=errors,
                           may_manage=service.may_change(current_user)), 422 if errors else 200


@bp.get("/election")
@requires(Action.VIEW_CAMPAIGNS)
def election() -> Rendered:
    return _election_page()


@bp.post("/election/day")
@requires(Action.MANAGE_CAMPAIGNS)
def election_day() -> Response | Rendered:
    form = ElectionDayForm()

    def done(chosen: plans.Election) -> Response:
        day = format_date(chosen.day, "long")
        if chosen.chosen:
            flash(_("The plan counts down to %(day)s.", day=day), "success")
        else:
            flash(_("The plan counts down to the next general election, %(day)s.", day=day),
                  "success")
        return redirect(url_for("county.election"))

    return submit(form, lambda session: plans.set_election_day(session, current_user,
                                                               form.day.data or ""),
                  done, lambda errors: _election_page(errors, form))
