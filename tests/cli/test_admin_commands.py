"""`megafon users …` and `megafon accounts …`: what an administrator does from a shell, through
the same services as the pages."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from core.notifications import Notification
from core.users import Role, User
from publisher.models import Platform


def _run(services, *args: str):
    env = {"MEGAFON_DATABASE_URL": services.settings.database_url,
           "MEGAFON_INSTANCE_PATH": str(services.settings.instance_path),
           "MEGAFON_SECRET_KEY": services.settings.secret_key,
           "MEGAFON_SANDBOX": "on", "MEGAFON_SANDBOX_URL": services.platforms.sandbox_url or ""}
    return CliRunner().invoke(main, list(args), env=env)


def test_users_are_listed_switched_off_and_on_and_sent_a_reset(services, make_user):
    make_user(Role.ADMIN, email="admin@example.org")
    anna = make_user(Role.COMMS, email="anna@example.org")
    listed = _run(services, "users", "list")
    assert listed.exit_code == 0, listed.output
    assert any(line.startswith("anna@example.org\t") and line.endswith("\tactive")
               for line in listed.stdout.splitlines())
    assert _run(services, "users", "deactivate", "anna@example.org").exit_code == 0
    with services.db.session() as session:
        assert session.get(User, anna.id).active is False
    assert "\tdeactivated" in _run(services, "users", "list").stdout
    assert _run(services, "users", "activate", "anna@example.org").exit_code == 0
    sent = _run(services, "users", "reset-password", "anna@example.org")
    assert sent.exit_code == 0, sent.output
    with services.db.session() as session:
        assert session.scalar(select(Notification).where(Notification.user_id == anna.id))
    unknown = _run(services, "users", "deactivate", "nobody@example.org")
    assert unknown.exit_code != 0 and "nobody@example.org" in unknown.output
    myself = _run(services, "users", "deactivate", "admin@example.org")
    assert myself.exit_code != 0  # someone must be left to undo it


def test_accounts_are_listed_without_secrets_and_checked_with_the_platform(
        services, make_user, make_account):
    make_user(Role.ADMIN, email="admin@example.org")
    account, credentials = make_account(Platform.X, name="VP Värmland på X")
    listed = _run(services, "accounts", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{account.id}\tx\tVP Värmland på X\t" in listed.stdout
    secrets = [v for k, v in credentials.items() if "token" in k or "secret" in k]
    assert secrets and all(secret not in listed.stdout for secret in secrets)
    checked = _run(services, "accounts", "check")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"{account.id}\tok"), checked.stdout
