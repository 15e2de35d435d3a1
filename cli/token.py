"""`megafon token create|list|revoke`: API tokens for scripts and CI, from the command line.

The secret is printed once, on its own line on stdout (so `$(megafon token create …)` takes
it); nothing else goes to stdout.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from core.db import Database
from core.i18n import ValidationErrors
from core.tokens import create_token, revoke_token, tokens_of
from core.users import Role, User


def _settings():  # noqa: ANN202 - cli.main's loader, imported late to avoid a cycle
    from cli.main import load_settings

    return load_settings()


def _admin(session) -> User:  # noqa: ANN001
    """The command line acts as the organisation's administrator."""
    admin = session.scalar(select(User).where(User.role == Role.ADMIN, User.active)
                           .order_by(User.id))
    if admin is None:
        raise click.ClickException("No active administrator: create one with "
                                   "`megafon create-user --role admin` first.")
    return admin


def _user(session, email: str) -> User:  # noqa: ANN001
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email!r}.")
    return user


@click.group()
def token() -> None:
    """API tokens: make one for a user, list them, revoke one."""


@token.command("create")
@click.option("--user", "email", required=True, help="The e-mail address of the token's user")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--name", default="command line", show_default=True, help="What uses it")
def create(email: str, scope: str, name: str) -> None:
    """Make a token for USER and print it (once)."""
    database = Database(_settings().database_url)
    try:
        with database.session() as session:
            owner = _user(session, email)
            made = create_token(session, _admin(session), owner, name, scope)
            secret = made.secret
    except ValidationErrors as errors:
        raise click.ClickException("; ".join(str(e) for e in errors.errors)) from None
    finally:
        database.dispose()
    click.echo(secret)
    click.echo(f"Token for {email} ({scope}); it is not shown again.", err=True)


@token.command("list")
@click.option("--user", "email", required=True)
def list_tokens(email: str) -> None:
    """The tokens of USER: id, prefix, scope, name, state."""
    database = Database(_settings().database_url)
    try:
        with database.session() as session:
            for t in tokens_of(session, _admin(session), _user(session, email)):
                state = "revoked" if t.revoked_at else "active"
                click.echo(f"{t.id}\tmgf_{t.prefix}_…\t{t.scope.value}\t{state}\t{t.name}")
    finally:
        database.dispose()


@token.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Stop the token TOKEN_ID at once."""
    database = Database(_settings().database_url)
    try:
        with database.session() as session:
            from core.auth import NotAllowed

            try:
                revoke_token(session, _admin(session), token_id)
            except NotAllowed:
                raise click.ClickException(f"No token {token_id}.") from None
    finally:
        database.dispose()
    click.echo(f"Token {token_id} revoked.", err=True)
