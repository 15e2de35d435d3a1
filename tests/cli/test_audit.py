"""`megafon audit`: the log from a shell, filtered, as tab lines or CSV."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

from cli.main import main
from core.auth import update_user
from core.users import Role, User


def _run(services, *args: str):
    env = {"MEGAFON_DATABASE_URL": services.settings.database_url,
           "MEGAFON_INSTANCE_PATH": str(services.settings.instance_path),
           "MEGAFON_SECRET_KEY": services.settings.secret_key}
    return CliRunner().invoke(main, ["audit", *args], env=env)


def test_the_log_is_listed_and_filtered_from_the_command_line(services, make_user):
    admin = make_user(Role.ADMIN, email="admin@example.org")
    anna = make_user(Role.COMMS, email="anna@example.org")
    with services.db.session() as session:
        update_user(session, session.get(User, admin.id), anna.id, name="Anna Andersson",
                    role=Role.BOARD, organisation_id=anna.organisation_id, active=True,
                    must_change_password=False)
    listed = _run(services)
    assert listed.exit_code == 0, listed.output
    [line] = listed.stdout.splitlines()
    fields = line.split("\t")
    assert fields[2:8] == [str(admin.id), admin.name, str(anna.organisation_id), "update",
                           "user", str(anna.id)]
    assert '"role": ["comms", "board"]' in fields[8]
    assert _run(services, "--actor", "anna@example.org").stdout == ""
    assert _run(services, "--type", "post").stdout == ""
    assert _run(services, "--since", "2999-01-01").stdout == ""
    as_csv = _run(services, "--csv", "--action", "update", "--organisation", "Distriktet")
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert table[0][0] == "id" and len(table) == 2 and table[1][5] == "update"
    wrong = _run(services, "--since", "igår")
    assert wrong.exit_code != 0 and "YYYY-MM-DD" in wrong.output
