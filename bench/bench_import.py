"""Bulk import: the preview of a 5,000-row file, as Swedish Excel writes it, then its confirmation.

Builds a CSV of N rows (semicolons, Windows-1252, Swedish headers) for 20 accounts, one row in
fifty wrong (an unknown account, a time in the past, too long for X), and times
`publisher.bulk_import.preview_import` — reading, checking every row by the composer's rules and
storing the preview, its commit included — then `confirm_import` (every valid row queued
through `create_post` in one transaction). On SQLite in a temporary directory by default; with
MEGAFON_DATABASE_URL=postgresql+psycopg://… in a database of its own, dropped afterwards.

    python bench/bench_import.py [--rows 5000] [--no-confirm]

Last line: `IMPORT rows=5000 preview_s=… (cpu …) confirm_s=… (cpu …) valid=… refused=…`: wall
time and this process's CPU time (on a busy machine the wall time is mostly waiting for a core).
Target: the preview in a few seconds. Most of its time is twitter-text's X count (its emoji
regular expression), once per row to an X account.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import migrate  # noqa: E402
from core.auth import create_user, district  # noqa: E402
from core.clock import to_local, utcnow  # noqa: E402
from core.db import Database  # noqa: E402
from core.users import Role, User  # noqa: E402
from publisher.bulk_import import confirm_import, preview_import  # noqa: E402
from publisher.models import Account, Platform  # noqa: E402

ACCOUNTS = 20


def make_file(rows: int) -> bytes:
    start = to_local(utcnow()).replace(second=0, microsecond=0, tzinfo=None) + timedelta(days=1)
    lines = ["Konto;Tid;Text;Länk;Bild;Alt-text"]
    for n in range(rows):
        account = f"Förening {n % ACCOUNTS:02} ({'X' if n % 2 else 'Facebook'})"
        when = start + timedelta(minutes=7 * n)
        text_ = f"Välfärd före vinster i Värmland – inlägg {n}, läs mer om äldreomsorgen"
        if n % 50 == 7:
            account = "Okänt konto"
        elif n % 50 == 23:
            when = start - timedelta(days=2)
        elif n % 50 == 41 and n % 2:
            text_ = "Kollektivtrafik " * 20
        link = f"https://example.org/s/{n}" if n % 3 == 0 else ""
        lines.append(f"{account};{when:%Y-%m-%d %H:%M};{text_};{link};;")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def run(url: str, media: Path, rows: int, confirm: bool) -> str:
    migrate.upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            home = district(session)
            user = create_user(session, email=f"bench-{uuid.uuid4().hex[:6]}@example.org",
                               name="Bench", password="bench-password-1", role=Role.COMMS,
                               organisation=home)
            session.add_all([Account(platform=platform, name=f"Förening {i:02}",
                                     external_id=f"imp-{uuid.uuid4().hex}",
                                     organisation_id=home.id, credentials_sealed="-")
                             for i in range(ACCOUNTS) for platform in Platform])
            user_id = user.id
        data = make_file(rows)
        began, cpu = time.perf_counter(), time.process_time()
        with db.session() as session:  # commits on leaving, as the web request does
            record = preview_import(session, session.get(User, user_id), data, "bench.csv",
                                    media_root=media)
            import_id, valid = record.id, len(record.valid_rows)
            refused = len(record.refused_rows)
        preview_s, preview_cpu = time.perf_counter() - began, time.process_time() - cpu
        confirm_s = confirm_cpu = 0.0
        if confirm:
            began, cpu = time.perf_counter(), time.process_time()
            with db.session() as session:
                done = confirm_import(session, session.get(User, user_id), import_id, valid)
            confirm_s, confirm_cpu = time.perf_counter() - began, time.process_time() - cpu
            assert len(done.post_ids) == valid, done
        return (f"IMPORT rows={rows} preview_s={preview_s:.3f} (cpu {preview_cpu:.3f}) "
                f"confirm_s={confirm_s:.3f} (cpu {confirm_cpu:.3f}) valid={valid} "
                f"refused={refused} file_kb={len(data) // 1024}")
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--no-confirm", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("MEGAFON_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as directory:
        media = Path(directory)
        if url.startswith("postgresql"):
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            name = f"megafon_import_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                print(run(f"{url.rpartition('/')[0]}/{name}", media, args.rows,
                          not args.no_confirm))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            print(run(f"sqlite:///{media / 'bench.db'}", media, args.rows, not args.no_confirm))


if __name__ == "__main__":
    main()
