"""schemathesis against the live API: every operation of the OpenAPI document, with generated
valid and invalid requests and the stateful links between operations, over real HTTP on
loopback with a write token. It must find no server error and no answer that disagrees with the
document (status, content type, body)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from core.tokens import create_token
from core.users import Role, User
from publisher.models import Platform
from tests.conftest import connect_sandbox_account
from tests.factories import queue_post
from tests.web.browser import live_megafon

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,ignored_auth,use_after_free")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path, sandbox):
    with live_megafon(tmp_path, sandbox.url) as megafon:
        services = megafon.services
        account, _ = connect_sandbox_account(services, Platform.X)
        with services.db.session() as session:
            admin = session.scalar(select(User).where(User.role == Role.ADMIN))
            token = create_token(session, admin, admin, "schemathesis", "write").secret
        queue_post(services.db, admin, [account], text="Ett inlägg att läsa")
        result = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run",
             f"{megafon.url}/api/v1/openapi.json", "--url", megafon.url,
             "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
             "--max-examples", os.environ.get("MEGAFON_SCHEMATHESIS_EXAMPLES", "25"),
             "--seed", "14", "--workers", "1", "--request-timeout", "20",
             "--generation-allow-x00", "true", "--suppress-health-check", "all",
             "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    print(report)
    assert result.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested, report
    assert int(tested.group(1)) == int(selected.group(2)) >= 11, report  # every operation
