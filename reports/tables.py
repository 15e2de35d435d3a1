"""The rows behind each of the report's tables, for CSV (and later XLSX) export.

Column names are fixed English identifiers, so a spreadsheet built on an export keeps working
whatever the reader's language; dates are ISO, shares are fractions (0.25), counts are whole.
"""

from __future__ import annotations

from typing import Any

from reports.board import Report

TABLES = ("series", "issues", "voice", "voice_series", "tone", "outlets", "stories", "people",
          "posts", "publishers", "top_posts")


def rows(report: Report, table: str) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of one table: one of TABLES."""
    if table == "series":
        return (["first_day", "last_day", "mentions"],
                [[b.first.isoformat(), b.last.isoformat(), n]
                 for b, n in zip(report.buckets, report.series, strict=True)])
    if table == "issues":
        return (["watchlist_id", "issue", "mentions", "previous_period", "change"],
                [[r.watchlist_id, r.name, r.count, r.previous,
                  "" if r.change is None else round(r.change, 4)] for r in report.issues])
    if table == "voice":
        return (["party", "namings", "share", "previous_share", "own_party"],
                [[r.party, r.count, round(r.share, 4),
                  "" if r.previous_share is None else round(r.previous_share, 4),
                  r.party == report.own_party] for r in report.voice])
    if table == "voice_series":
        header = ["first_day", "last_day", *report.voice_series]
        return (header, [[b.first.isoformat(), b.last.isoformat(),
                          *(counts[i] for counts in report.voice_series.values())]
                         for i, b in enumerate(report.buckets)])
    if table == "tone":
        names = {r.watchlist_id: r.name for r in report.issues}
        return (["watchlist_id", "issue", "positive", "neutral", "negative", "unscored"],
                [[w, names.get(w, "?"), *(counts.get(t, 0) for t in
                                          ("positive", "neutral", "negative", "unscored"))]
                 for w, counts in sorted(report.tone_by_issue.items(),
                                         key=lambda kv: (-sum(kv[1].values()), kv[0]))])
    if table == "outlets":
        return (["outlet", "source_kind", "mentions", "previous_period"],
                [[r.outlet, r.kind.value, r.count, r.previous] for r in report.outlets])
    if table == "stories":
        return (["mention_id", "title", "outlet", "time_utc", "outlets", "sightings", "url"],
                [[r.mention_id, r.title, r.outlet, r.at.isoformat(), r.outlets, r.sightings,
                  r.url or ""] for r in report.stories])
    if table == "people":
        return (["person_id", "name", "party", "mentions"],
                [[r.person_id, r.name, r.party or "", r.count] for r in report.people])
    if table in {"posts", "publishers", "top_posts"}:
        return _publishing(report, table)
    raise KeyError(table)


def _publishing(report: Report, table: str) -> tuple[list[str], list[list[Any]]]:
    """Our own publishing beside the coverage (reports.publishing)."""
    ours = report.publishing
    by_issue = ours.by_issue if ours else {}
    if table == "posts":
        names = {r.watchlist_id: r.name for r in report.issues}
        names.update({w: row.name for w, row in by_issue.items()})
        counts = {r.watchlist_id: r.count for r in report.issues}
        order = sorted(names, key=lambda w: (-counts.get(w, 0),
                                             -(by_issue[w].count if w in by_issue else 0),
                                             names[w].casefold()))
        return (["watchlist_id", "issue", "mentions", "our_publications", "reach",
                 "engagement"],
                [[w, names[w], counts.get(w, 0),
                  *((by_issue[w].count, by_issue[w].reach, by_issue[w].engagement)
                    if w in by_issue else (0, 0, 0))] for w in order])
    if table == "publishers":
        return (["organisation_id", "organisation", "kind", "publications", "previous_period",
                 "reach", "engagement"],
                [[r.organisation_id, r.name, r.kind, r.count, r.previous, r.reach,
                  r.engagement] for r in (ours.by_organisation if ours else [])])
    return (["delivery_id", "post_id", "time_utc", "account", "platform", "organisation",
             "likes", "reposts", "replies", "quotes", "comments", "impressions", "engagement",
             "issues", "url", "text"],
            [[p.delivery_id, p.post_id, p.at.isoformat(), p.account, p.platform,
              p.organisation, p.likes, p.reposts, p.replies, p.quotes, p.comments,
              "" if p.impressions is None else p.impressions, p.engagement,
              "; ".join(by_issue[w].name if w in by_issue else str(w) for w in p.issues),
              p.url or "", p.text] for p in (ours.top if ours else [])])
