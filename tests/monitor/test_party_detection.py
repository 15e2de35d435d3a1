"""How well monitor finds the parties and people a reader would record: share of voice is only as
good as this, so it is measured against a hand-labelled Swedish set (party_labels.json) and may
not get worse.

The floors are the figures measured when they were set, rounded down to two decimals: a rule
change that loses a party somewhere, or starts seeing one in "storlek S, M och L", fails here
with the whole table in the message. Raise a floor when detection improves; never lower one to
let a rule change through. New passages are measured before the rules are changed for them, and
the floors set again from the larger set (a harder set may lower a figure without detection
getting worse: say so in the commit). ``pytest -s`` prints the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.matcher import Matcher
from monitor.parties import CODES

LABELS = Path(__file__).with_name("party_labels.json")
ISSUE_CASE = "issue-board-report"  # "An article naming S, M, KD and V showed only KD and M"

# Measured figures, rounded down (see the module docstring). "all" is micro-averaged.
PARTY_FLOORS: dict[str, tuple[float, float]] = {  # code: (precision, recall)
    "all": (1.0, 0.94),
    "V": (1.0, 1.0),
    "S": (1.0, 0.88),
    "MP": (1.0, 1.0),
    "C": (1.0, 0.95),
    "L": (1.0, 0.92),
    "KD": (1.0, 1.0),
    "M": (1.0, 0.9),
    "SD": (1.0, 1.0),
}
PEOPLE_FLOOR = (0.89, 0.94)


@dataclass
class Tally:
    """True positives, false positives and false negatives, with the passages behind the
    errors (so a failure says where to look)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, found: set[str], expected: set[str], where: str) -> None:
        self.tp += len(found & expected)
        self.fp += len(found - expected)
        self.fn += len(expected - found)
        if found != expected:
            self.wrong.append(where)


@dataclass
class Measured:
    parties: dict[str, Tally]  # per code, and "all"
    people: Tally
    found: dict[str, tuple[list[str], list[str]]]  # passage id: (parties, people) found

    def table(self) -> str:
        lines = [f"{'':5} {'prec':>5} {'rec':>5} {'tp':>4} {'fp':>3} {'fn':>3}  errors"]
        rows = [*((code, self.parties[code]) for code in ("all", *CODES)),
                ("people", self.people)]
        for name, t in rows:
            lines.append(f"{name:5} {t.precision:5.2f} {t.recall:5.2f} {t.tp:4} {t.fp:3} "
                         f"{t.fn:3}  {', '.join(t.wrong) if name != 'all' else ''}")
        return "\n".join(lines)


def load() -> dict:
    return json.loads(LABELS.read_text(encoding="utf-8"))


def measure(labels: dict) -> Measured:
    """Run the matcher that ingest uses (parties and the people as given) over every passage."""
    people = labels["people"]
    matcher = Matcher.build([], [(i, [p["name"], *p["aliases"]]) for i, p in enumerate(people)],
                            parties=True)
    parties = {code: Tally() for code in ("all", *CODES)}
    named = Tally()
    found: dict[str, tuple[list[str], list[str]]] = {}
    for passage in labels["passages"]:
        result = matcher.match(passage["text"])
        got, want = set(result.parties), set(passage["parties"])
        parties["all"].add(got, want, passage["id"])
        for code in CODES:
            parties[code].add(got & {code}, want & {code}, passage["id"])
        got_people = [people[i]["name"] for i in result.people]
        # A passage without "people" names none of the set's people.
        named.add(set(got_people), set(passage.get("people", ())), passage["id"])
        found[passage["id"]] = (result.parties, got_people)
    return Measured(parties, named, found)


@pytest.fixture(scope="module")
def measured() -> Measured:
    result = measure(load())
    print("\nParty and people detection on tests/monitor/party_labels.json\n" + result.table())
    return result


def _below(tally: Tally, floor: tuple[float, float]) -> bool:
    return tally.precision < floor[0] or tally.recall < floor[1]


def test_the_labelled_set_is_well_formed() -> None:
    labels = load()
    passages = labels["passages"]
    names = {p["name"] for p in labels["people"]}
    assert len(passages) >= 60
    assert len({p["id"] for p in passages}) == len(passages)
    for p in passages:
        assert set(p["parties"]) <= set(CODES), p["id"]
        assert set(p.get("people", ())) <= names, p["id"]
    negatives = [p for p in passages if not p["parties"]]
    assert len(negatives) >= 15  # the hard cases: sizes, vitamins, kings, "moderat"…


def test_party_detection_does_not_get_worse(measured: Measured) -> None:
    below = [code for code, floor in PARTY_FLOORS.items()
             if _below(measured.parties[code], floor)]
    assert not below, f"below the floor for {below}:\n{measured.table()}"


def test_people_detection_does_not_get_worse(measured: Measured) -> None:
    assert not _below(measured.people, PEOPLE_FLOOR), measured.table()


def test_the_issue_case_finds_all_four_parties(measured: Measured) -> None:
    passage = next(p for p in load()["passages"] if p["id"] == ISSUE_CASE)
    assert sorted(passage["parties"], key=CODES.index) == ["V", "S", "KD", "M"]
    assert measured.found[ISSUE_CASE][0] == ["V", "S", "KD", "M"], measured.table()
