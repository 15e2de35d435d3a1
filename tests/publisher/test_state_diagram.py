"""The state diagram in docs/ARCHITECTURE.md and `TRANSITIONS` are one thing, written twice: a
maintainer reads the diagram, the code obeys the table. They must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from publisher.deliveries import TRANSITIONS
from publisher.models import DeliveryState

DOC = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"


def drawn_moves(markdown: str) -> set[tuple[str, str]]:
    """Every `a, b ── label ──▶ c` arrow of the diagram under "## Delivery state machine"; a
    target "itself" is a change that keeps each state."""
    section = markdown.split("## Delivery state machine", 1)[1]
    block = section.split("```", 2)[1]
    moves = set()
    for line in block.splitlines():
        if "▶" not in line:
            continue
        left, right = line.split("▶", 1)
        sources = [s.strip() for s in left.split("──", 1)[0].split(",")]
        target = re.split(r"\(|\s{2,}", right.strip(), maxsplit=1)[0].strip()
        for source in sources:
            moves.add((source, source if target == "itself" else target))
    return moves


def test_the_documented_diagram_is_the_transition_table():
    table = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    drawn = drawn_moves(DOC.read_text(encoding="utf-8"))
    assert drawn - table == set(), "drawn in docs/ARCHITECTURE.md but not allowed in code"
    assert table - drawn == set(), "allowed in code but not drawn in docs/ARCHITECTURE.md"


def test_every_state_is_in_the_table_and_the_parser_sees_every_arrow():
    assert set(TRANSITIONS) == set(DeliveryState)
    drawn = drawn_moves(DOC.read_text(encoding="utf-8"))
    assert ("uncertain", "uncertain") in drawn and ("scheduled", "sending") in drawn
    assert {state for move in drawn for state in move} == {s.value for s in DeliveryState}
