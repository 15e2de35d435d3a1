"""Who the command line acts as: the organisation's first active administrator (commands that
administer go through the same services as the pages, which take an acting user), and the
settings of the environment it runs in."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from core.users import Role, User


def settings() -> Settings:
    from cli.main import load_settings  # late: cli.main imports the commands

    return load_settings()


def administrator(session: Session) -> User:
    found = session.scalar(select(User).where(User.role == Role.ADMIN, User.active)
                           .order_by(User.id))
    if found is None:
        raise click.ClickException("No active administrator: create one with "
                                   "`megafon create-user --role admin` first.")
    return found


def user_by_email(session: Session, email: str) -> User:
    found = session.scalar(select(User).where(User.email == email.strip().lower()))
    if found is None:
        raise click.ClickException(f"No user with the e-mail address {email!r}.")
    return found
