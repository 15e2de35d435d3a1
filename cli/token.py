"""`megafon token create|list|revoke`: API tokens for scripts and CI, from the command line.

The secret is printed once, on its own line on stdout (so `$(megafon token create …)` takes
it); nothing else goes to stdout.
"""

from __future__ import annotations

import click

from cli.acting import administrator, settings, user_by_email
from core.db import Database
from core.i18n import ValidationErrors
from core.tokens import create_token, revoke_token, tokens_of


@click.group()
def token() -> None:
    """API tokens: make one for a user, list them, revoke one."""


@token.command("create")
@click.option("--user", "email", required=True, help="The e-mail address of the token's user")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--name", default="command line", show_default=True, help="What uses it")
def create(email: str, scope: str, name: str) -> None:
    """Make a token for USER and print it (once)."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            owner = user_by_email(session, email)
            made = create_token(session, administrator(session), owner, name, scope)
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
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            for t in tokens_of(session, administrator(session), user_by_email(session, email)):
                state = "revoked" if t.revoked_at else "active"
                click.echo(f"{t.id}\tmgf_{t.prefix}_…\t{t.scope.value}\t{state}\t{t.name}")
    finally:
        database.dispose()


@token.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Stop the token TOKEN_ID at once."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            from core.auth import NotAllowed

            try:
                revoke_token(session, administrator(session), token_id)
            except NotAllowed:
                raise click.ClickException(f"No token {token_id}.") from None
    finally:
        database.dispose()
    click.echo(f"Token {token_id} revoked.", err=True)
