"""Backups of everything Megafon keeps: the database and the uploaded pictures, in one file.

A backup is a gzipped tar holding `manifest.json` (which kind of database, its schema revision,
when), the database (`megafon.db` made with SQLite's online backup API, so a running Megafon is
copied consistently; or `megafon.pgdump`, PostgreSQL's custom format from `pg_dump`) and the
instance's `media/` folder. The master secret is *not* in it: credentials stay encrypted in
the dump and decrypt after a restore only with the same `MEGAFON_SECRET_KEY` (or the instance's
`secret_key` file), which is kept apart from backups on purpose.

A restore goes into an empty database only (a restore over live data would mix two histories):
SQLite gets the file, PostgreSQL gets `pg_restore`; the pictures go back into the instance
folder. PostgreSQL's tools are looked for on PATH; without them the command says so and stops.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core.clock import utcnow
from core.settings import Settings

FORMAT = 1
MEDIA_DIR = "media"


class BackupError(RuntimeError):
    """A backup or restore that cannot be made, said plainly for the command line."""


@dataclass(frozen=True)
class Manifest:
    format: int
    kind: str  # "sqlite" | "postgresql"
    revision: str | None
    created_at: str
    media_files: int


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups know SQLite and PostgreSQL, not {backend}.")
    return backend


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if "alembic_version" not in inspect(conn).get_table_names():
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed here; PostgreSQL backups need the "
                          f"PostgreSQL client tools (Debian: apt-get install postgresql-client).")
    return found


def backup(settings: Settings, out: Path, *, now: datetime | None = None) -> Manifest:
    """Write a backup of the database and the pictures to `out` (a .tar.gz)."""
    url = settings.database_url
    kind = _kind(url)
    media = settings.instance_path / MEDIA_DIR
    files = sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
    manifest = Manifest(FORMAT, kind, _revision(url), (now or utcnow()).isoformat(), len(files))
    with tempfile.TemporaryDirectory(prefix="megafon-backup-") as work:
        dump = Path(work) / ("megafon.db" if kind == "sqlite" else "megafon.pgdump")
        if kind == "sqlite":
            source_path = make_url(url).database
            if not source_path or not Path(source_path).exists():
                raise BackupError(f"No SQLite database at {source_path!r}.")
            source = sqlite3.connect(source_path)
            target = sqlite3.connect(dump)
            try:
                source.backup(target)  # consistent even while Megafon writes
            finally:
                target.close()
                source.close()
        else:
            done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner",
                                   f"--file={dump}", _libpq(url)],
                                  capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest.__dict__, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
            for path in files:
                archive.add(path, arcname=f"{MEDIA_DIR}/{path.relative_to(media).as_posix()}")
        partial.replace(out)  # a backup file is whole or not there
    return manifest


def read_manifest(archive: tarfile.TarFile) -> Manifest:
    try:
        member = archive.extractfile("manifest.json")
        data = json.loads(member.read()) if member else None
    except (KeyError, ValueError) as exc:
        raise BackupError("This is not a Megafon backup (no manifest).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("This backup's format is not one this Megafon reads.")
    return Manifest(**data)


def _empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            for table in ("posts", "mentions", "accounts", "users"):
                if table in tables and conn.execute(
                        text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                    return False
            return True
    finally:
        engine.dispose()


def restore(settings: Settings, source: Path) -> Manifest:
    """Restore a backup into the (empty) database of `settings` and its instance folder."""
    url = settings.database_url
    kind = _kind(url)
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Cannot read {source}: {exc}") from exc
    with archive, tempfile.TemporaryDirectory(prefix="megafon-restore-") as work:
        manifest = read_manifest(archive)
        if manifest.kind != kind:
            raise BackupError(f"This backup is of a {manifest.kind} database; restore it into "
                              f"one of the same kind (MEGAFON_DATABASE_URL is {kind}).")
        if kind == "sqlite":
            target = Path(make_url(url).database or "")
            if target.exists() and not _empty(url):
                raise BackupError(f"{target} already holds data; restore into an empty "
                                  "database.")
        elif not _empty(url):
            raise BackupError("The database already holds data; restore into an empty one.")
        archive.extractall(work, filter="data")  # no paths outside, no links, no devices
        folder = Path(work)
        if kind == "sqlite":
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(folder / "megafon.db", target)
        else:
            _clear_schema(url)
            done = subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error",
                                   f"--dbname={_libpq(url)}", str(folder / "megafon.pgdump")],
                                  capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")
        media = folder / MEDIA_DIR
        if media.exists():
            shutil.copytree(media, settings.instance_path / MEDIA_DIR, dirs_exist_ok=True)
    return manifest


def _clear_schema(url: str) -> None:
    """An empty PostgreSQL database may still hold Megafon's empty tables (migrated): dropped,
    so the dump's own schema goes in whole."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
