"""The report as files: CSV of one table, XLSX of all of them, JSON of every figure.

The same rows as the page's tables (reports.tables), so a spreadsheet and the page never differ;
XLSX holds one sheet per table with the period on the first, numbers as numbers and shares as
percentages, so the board can go on from them in Excel or LibreOffice.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from reports import tables
from reports.board import Report
from reports.snapshots import encode

SHARE_COLUMNS = {"share", "previous_share", "change"}


def _cell(value: object) -> object:
    """A value a worksheet can hold: text without the control characters XLSX cannot store
    (feeds carry stray ones); everything else as it is."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def csv_table(report: Report, table: str) -> str:
    """One table as CSV text, with a byte-order mark so Excel reads å, ä and ö."""
    header, rows = tables.rows(report, table)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def xlsx(report: Report, organisation: str, counted: datetime) -> bytes:
    """Every table of the report as a workbook: a sheet for the period, one per table."""
    book = Workbook()
    about = book.active
    about.title = "report"
    for row in (("organisation", organisation),
                ("first_day", report.period.first.isoformat()),
                ("last_day", report.period.last.isoformat()),
                ("previous_first_day", report.previous.first.isoformat()),
                ("previous_last_day", report.previous.last.isoformat()),
                ("mentions", report.total), ("mentions_previous_period", report.previous_total),
                ("own_party", report.own_party),
                ("counted_utc", counted.isoformat(timespec="seconds"))):
        about.append([_cell(value) for value in row])
    for table in tables.TABLES:
        sheet = book.create_sheet(table)
        header, rows = tables.rows(report, table)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
        for index, name in enumerate(header, start=1):
            if name in SHARE_COLUMNS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def json_report(report: Report, counted: datetime) -> str:
    """Every figure of the report as JSON (the snapshot's own form)."""
    return encode(report, counted)
