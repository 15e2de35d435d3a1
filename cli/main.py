"""The `megafon` command: the outer layer for operators, like web/ and schedules/."""

from __future__ import annotations

import logging
import secrets
import sys
from dataclasses import replace

import click
from sqlalchemy import func, select

from cli.admin import accounts, users
from cli.audit import audit_command
from cli.backup import backup, restore
from cli.data import export, sources, watchlists
from cli.process import limit_malloc_arenas
from cli.report import report
from cli.report_mail import report_mail
from cli.sandbox import sandbox
from cli.token import token
from cli.watch import watch
from core import migrate
from core.auth import AuthError, create_user
from core.db import Database
from core.settings import Settings, SettingsError
from core.users import Organisation, Role, User


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s")
    # One line per scheduler tick every few seconds drowns everything else.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per feed fetched, likewise


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
def main() -> None:
    """Megafon: publishing to X and Facebook, and media monitoring."""
    limit_malloc_arenas()  # before any thread starts (see cli.process)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date."""
    settings = load_settings()
    settings.ensure_instance_path()
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database is at {revision}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.COMMS.value,
              show_default=True)
@click.option("--organisation", default="", help="Name of the organisation (default: district)")
@click.option("--password", default="", help="Prompted for when not given")
def create_user_command(email: str, name: str, role: str, organisation: str, password: str) -> None:
    """Create a user who can log in."""
    settings = load_settings()
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            org = None
            if organisation:
                org = session.scalar(select(Organisation).where(Organisation.name == organisation))
                if org is None:
                    raise click.UsageError(f"no organisation named {organisation!r}")
            user = create_user(session, email=email, name=name, password=password,
                               role=Role(role), organisation=org)
            click.echo(f"created {user.email} ({user.role.value}, {user.organisation.name})")
    except AuthError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        database.dispose()


def _first_admin(database: Database) -> tuple[str, str] | None:
    """On a fresh database, make an admin and return the credentials to print once."""
    with database.session() as session:
        if session.scalar(select(func.count(User.id))):
            return None
        password = secrets.token_urlsafe(12)
        # Printed on the terminal (and so in logs): good for the first login only.
        create_user(session, email="admin@example.org", name="Administratör", password=password,
                    role=Role.ADMIN, must_change_password=True)
        return "admin@example.org", password


@main.command()
@click.option("--host", default=None, help="Default: MEGAFON_HOST")
@click.option("--port", type=int, default=None, help="Default: MEGAFON_PORT")
def run(host: str | None, port: int | None) -> None:
    """Start everything in one process: web, scheduler and (without real credentials) sandbox."""
    from cli.demo import seed_events, seed_monitoring, seed_organisations, seed_publishing
    from publisher.services import Services
    from schedules.jobs import start_background
    from web import create_app

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    configure_logging(settings)
    settings.ensure_instance_path()
    migrate.upgrade(settings.database_url)
    sandbox_server = None
    if settings.sandbox_enabled and not settings.sandbox_url:
        from sandbox.server import SandboxServer

        sandbox_server = SandboxServer(str(settings.instance_path / "sandbox.db"),
                                       port=settings.sandbox_port)
        sandbox_server.start()
        if not settings.smtp_url:  # e-mail goes to the sandbox's mailbox, shown at /sandbox/mail
            settings = replace(settings, smtp_url=sandbox_server.start_mail().url)
    services = Services.from_settings(settings)
    credentials = _first_admin(services.db)
    if settings.demo_data:
        with services.db.session() as session:
            seed_organisations(session)
            seed_events(session)
            if services.platforms.sandbox_url:
                seed_monitoring(session, services.platforms.sandbox_url)
                seed_publishing(session, services)
    scheduler = start_background(services)
    app = create_app(settings, services)
    click.echo("")
    click.echo(f"  Megafon is running at http://{host}:{port}/")
    if sandbox_server:
        click.echo(f"  Sandbox of X and Facebook: {sandbox_server.url}/sandbox/")
        if sandbox_server.mail_server:
            click.echo(f"  E-mail it sends (no mail server set): {sandbox_server.url}/sandbox/mail")
    if credentials:
        click.echo(f"  First login: {credentials[0]}  password: {credentials[1]}")
        click.echo("  (shown once, for the first login, which asks for a password of your own;"
                   " add more users with `megafon create-user`)")
    click.echo("")
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)
        if sandbox_server:
            sandbox_server.stop()


@main.command()
def worker() -> None:
    """Run one publishing worker (run several for more throughput)."""
    from publisher.services import Services
    from schedules.jobs import run_blocking

    settings = load_settings()
    configure_logging(settings)
    run_blocking(Services.from_settings(settings))


main.add_command(sandbox)
main.add_command(watch)
main.add_command(report)
main.add_command(report_mail)
main.add_command(token)
main.add_command(backup)
main.add_command(users)
main.add_command(accounts)
main.add_command(watchlists)
main.add_command(sources)
main.add_command(export)
main.add_command(restore)
main.add_command(audit_command)


if __name__ == "__main__":
    main()
