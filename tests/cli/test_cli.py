"""The `megafon` command: migrations, users, and clear errors with exit code 2."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from core.auth import authenticate
from core.db import Database
from core.users import Role


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MEGAFON_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MEGAFON_DATABASE_URL", url)
    return url


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_upgrade_then_create_user_who_can_log_in(env):
    assert run("db", "upgrade").exit_code == 0
    result = run("create-user", "--email", "Anna@Example.org", "--name", "Anna",
                 "--role", "campaign_lead", "--password", "långt lösenord")
    assert result.exit_code == 0, result.output
    assert "anna@example.org (campaign_lead" in result.output
    database = Database(env)
    with database.session() as session:
        user = authenticate(session, "anna@example.org", "långt lösenord")
        assert user.role is Role.CAMPAIGN_LEAD
    database.dispose()


def test_password_is_prompted_for_when_not_given(env):
    run("db", "upgrade")
    result = CliRunner().invoke(main, ["create-user", "--email", "b@example.org"],
                                input="ett bra lösenord\nett bra lösenord\n")
    assert result.exit_code == 0 and "created b@example.org" in result.output


@pytest.mark.parametrize("args,needle", [
    (["--role", "king", "--password", "tillräckligt"], "king"),
    (["--password", "kort"], "at least 10"),
    (["--organisation", "Finns inte", "--password", "tillräckligt"], "no organisation"),
])
def test_bad_input_exits_2_with_a_clear_message(env, args, needle):
    run("db", "upgrade")
    result = CliRunner().invoke(main, ["create-user", "--email", "c@example.org", *args])
    assert result.exit_code == 2 and needle in result.output


def test_a_bad_setting_names_the_variable(env, monkeypatch):
    monkeypatch.setenv("MEGAFON_SANDBOX", "kanske")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2 and "MEGAFON_SANDBOX" in result.output


def test_the_installed_command_runs_outside_the_source_tree(tmp_path):
    """`make run` starts the installed `megafon`, which sees only the packages pyproject.toml
    lists; the tests see the whole tree. Run from elsewhere, every command must import."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "megafon"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for args in (["--help"], ["report", "--help"], ["watch", "test", "--help"]):
        result = subprocess.run([str(command), *args], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr


def test_the_image_copies_every_package_the_install_lists():
    """The Dockerfile copies packages one by one; one left out is an image that cannot start."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    listed = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in listed}
    on_disk = {p.parent.name for p in root.glob("*/__init__.py")} - {"tests", "bench"}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (root / "Dockerfile").read_text(), re.M))
    assert on_disk <= packages, on_disk - packages
    assert packages <= copied, packages - copied
