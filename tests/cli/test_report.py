"""`megafon report --period … --format xlsx|csv|json --out FILE`: the page's figures as a file,
read back with the libraries a reader would use; exit 2 and no file for what cannot be used."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli.main import main
from core.auth import create_user
from core.users import Role
from reports.board import board_report
from tests.reports.test_board import MARCH, World, world  # noqa: F401 - the fixture


@pytest.fixture
def cli_world(world: World, monkeypatch) -> World:  # noqa: F811
    monkeypatch.setenv("MEGAFON_DATABASE_URL", str(world.db.engine.url.render_as_string(
        hide_password=False)))
    with world.db.session() as session:
        create_user(session, email="admin@example.org", name="Admin",
                    password="correct horse battery", role=Role.ADMIN)
    return world


def run(*args: str):
    return CliRunner().invoke(main, ["report", *args])


def expected(seeded: World):
    with seeded.db.session() as session:
        return board_report(session, seeded.user, MARCH)


def test_a_workbook_with_a_sheet_per_table(cli_world: World, tmp_path: Path):
    out = tmp_path / "rapport.xlsx"
    result = run("--period", "2026-03", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["report", "series", "issues", "voice", "voice_series", "tone",
                               "outlets", "stories", "people", "posts", "publishers",
                               "top_posts"]
    about = {row[0]: row[1] for row in book["report"].iter_rows(values_only=True)}
    report = expected(cli_world)
    assert (about["first_day"], about["last_day"], about["mentions"]) == (
        "2026-03-01", "2026-03-31", report.total)
    issues = list(book["issues"].iter_rows(values_only=True))
    assert issues[0][:3] == ("watchlist_id", "issue", "mentions")
    assert [(r[0], r[2]) for r in issues[1:]] == [(i.watchlist_id, i.count)
                                                  for i in report.issues]


def test_one_table_as_csv_and_every_figure_as_json(cli_world: World, tmp_path: Path):
    out = tmp_path / "parter.csv"
    assert run("--period", "2026-03", "--format", "csv", "--table", "voice",
               "--out", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    report = expected(cli_world)
    assert rows[0][:2] == ["party", "namings"]
    assert [(r[0], int(r[1])) for r in rows[1:]] == [(v.party, v.count) for v in report.voice]
    result = run("--period", "2026-03-01..2026-03-31", "--format", "json", "--out", "-")
    assert result.exit_code == 0
    data = json.loads(result.stdout)["report"]
    assert data["total"] == report.total and data["series"] == report.series


@pytest.mark.parametrize("args, message", [
    (["--period", "2026-13"], "No such month"),
    (["--period", "igår"], "is not a period"),
    (["--as", "nobody@example.org"], "no active user"),
])
def test_what_cannot_be_used_exits_2_and_writes_nothing(cli_world: World, tmp_path: Path,
                                                        args, message):
    out = tmp_path / "x.xlsx"
    result = run(*args, "--out", str(out))
    assert result.exit_code == 2 and message in result.stderr and not out.exists()


def test_the_board_paper_as_pdf_in_either_language(cli_world: World, tmp_path: Path):
    import subprocess

    for language, title in (("sv", "Synlighet i media"), ("en", "Media visibility")):
        out = tmp_path / f"rapport-{language}.pdf"
        result = run("--period", "2026-03", "--format", "pdf", "--language", language,
                     "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF")
        text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True,
                              text=True, timeout=60).stdout
        assert title in text and "2026-03-01 – 2026-03-31" in text
