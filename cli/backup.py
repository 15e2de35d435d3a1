"""`megafon backup --out FILE` and `megafon restore FILE`: the database and pictures in one file
(core.backup); the master secret is kept apart."""

from __future__ import annotations

from pathlib import Path

import click

from cli.acting import settings
from core.backup import BackupError
from core.backup import backup as make_backup
from core.backup import restore as do_restore


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (.tar.gz)")
def backup(out: Path) -> None:
    """Back up the database and the uploaded pictures (not the secret key) to one file."""
    try:
        manifest = make_backup(settings(), out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up the {manifest.kind} database (schema {manifest.revision}) and "
               f"{manifest.media_files} pictures to {out}.", err=True)
    click.echo("Keep MEGAFON_SECRET_KEY (or the instance's secret_key file) apart: the "
               "accounts' credentials decrypt only with it.", err=True)


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(source: Path) -> None:
    """Restore a backup into an empty database (MEGAFON_DATABASE_URL) and its instance folder."""
    try:
        manifest = do_restore(settings(), source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored the {manifest.kind} database (schema {manifest.revision}, made "
               f"{manifest.created_at}) and {manifest.media_files} pictures. Run "
               f"`megafon db upgrade` if this Megafon is newer.", err=True)
