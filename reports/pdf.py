"""The report as PDF: HTML made for print (A4, a title page) turned into a document by
WeasyPrint, a maintained HTML-to-PDF library. Charts are SVG images inside the HTML, so they
stay sharp on paper; nothing is fetched while rendering (no base URL, images are data: URIs)."""

from __future__ import annotations

import logging

from weasyprint import HTML

# WeasyPrint tells every step of every document at INFO; a worker's log is not the place.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
logging.getLogger("fontTools").setLevel(logging.WARNING)


def from_html(html: str) -> bytes:
    """A PDF of `html` (self-contained: styles inline, images as data: URIs)."""
    return HTML(string=html, base_url=None).write_pdf()
