"""Administration from the command line: `megafon users …` and `megafon accounts …`, acting as
the organisation's first active administrator through the same services the pages use."""

from __future__ import annotations

import click
from sqlalchemy import select

from cli.acting import administrator, settings, user_by_email
from core.auth import NotAllowed, request_password_reset, update_user, user_admin
from core.clock import utcnow
from core.db import Database
from core.i18n import ValidationErrors
from publisher.models import Account
from publisher.token_checks import check_account


@click.group()
def users() -> None:
    """Users: list them, switch one off or on, send a password reset."""


@users.command("list")
def list_users() -> None:
    """Every user: e-mail, name, role, organisation, active."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            for user in user_admin(session, administrator(session)).users:
                state = "active" if user.active else "deactivated"
                click.echo(f"{user.email}\t{user.name}\t{user.role.value}\t"
                           f"{user.organisation.name}\t{state}")
    finally:
        database.dispose()


def _switch(email: str, active: bool) -> None:
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            user = user_by_email(session, email)
            update_user(session, administrator(session), user.id, name=user.name,
                        role=user.role, organisation_id=user.organisation_id, active=active,
                        must_change_password=user.must_change_password)
    except (ValidationErrors, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Switch a user off: every session of theirs ends, their API tokens stop."""
    _switch(email, False)
    click.echo(f"{email} is switched off.", err=True)


@users.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Switch a user on again."""
    _switch(email, True)
    click.echo(f"{email} is switched on.", err=True)


@users.command("reset-password")
@click.argument("email")
def reset_password(email: str) -> None:
    """E-mail the user a single-use link to choose a new password."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            user_by_email(session, email)
            request_password_reset(session, email, client="cli")
    except ValidationErrors as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()
    click.echo(f"A link to choose a new password is on its way to {email} (sent by the "
               "workers' e-mail job).", err=True)


@click.group()
def accounts() -> None:
    """The connected accounts: list them, check their credentials with the platforms."""


@accounts.command("list")
def list_accounts() -> None:
    """Every account: id, platform, name, organisation, credentials' state (never secrets)."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            for account in session.scalars(select(Account).order_by(Account.id)):
                state = "active" if account.active else "disconnected"
                click.echo(f"{account.id}\t{account.platform.value}\t{account.name}\t"
                           f"{account.organisation.name}\t{account.credentials_status.value}\t"
                           f"{state}")
    finally:
        database.dispose()


@accounts.command("check")
def check() -> None:
    """Ask the platforms whether each active account's credentials still work, now."""
    from publisher.services import Services

    services = Services.from_settings(settings())
    try:
        with services.db.session() as session:
            ids = list(session.scalars(select(Account.id).where(Account.active)
                                       .order_by(Account.id)))
        for account_id in ids:
            outcome = check_account(services.db, services.box, services.platforms, account_id,
                                    utcnow())
            state = outcome.state.value if outcome.state else "not asked"
            click.echo(f"{account_id}\t{state}\t{outcome.reason}")
    finally:
        services.db.dispose()
