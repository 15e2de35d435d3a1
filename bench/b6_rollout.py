"""B6: a campaign rolled out to 300 accounts in one action, on PostgreSQL.

Creates a database of its own (dropped afterwards), 300 accounts (half X, half Facebook
Pages) and a campaign lead, then times `campaigns.campaigns.rollout` — the one action the lead
takes: 300 ordinary posts through publisher.posts.create_post, each with its delivery and
history row, spread over a five-hour window, linked to the campaign — including its commit, and
the coverage matrix read afterwards. Target: the roll-out under 2 s.

    MEGAFON_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test python bench/b6_rollout.py

Last line: `B6 accounts=300 rollout_s=… matrix_s=… posts=300`. Options: --accounts N, --repeat R
(the median run is printed last; every run is printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns.campaigns import (  # noqa: E402
    CampaignDraft,
    MessageDraft,
    RolloutDraft,
    create_campaign,
    rollout,
)
from campaigns.coverage import matrix  # noqa: E402
from core import migrate  # noqa: E402
from core.auth import create_user, district  # noqa: E402
from core.clock import to_local, utcnow  # noqa: E402
from core.db import Database  # noqa: E402
from core.entered_time import EnteredTime  # noqa: E402
from core.users import Role, User  # noqa: E402
from publisher.models import Account, Platform, Post  # noqa: E402


def one_run(url: str, accounts: int) -> tuple[float, float, int]:
    db = Database(url)
    try:
        with db.session() as session:
            home = district(session)
            lead = create_user(session, email=f"lead-{uuid.uuid4().hex[:6]}@example.org",
                               name="Kampanjledare", password="bench-password-1",
                               role=Role.CAMPAIGN_LEAD, organisation=home)
            session.add_all([Account(platform=Platform.X if i % 2 else Platform.FACEBOOK,
                                     name=f"Konto {i:04}", external_id=f"b6-{uuid.uuid4().hex}",
                                     organisation_id=home.id, credentials_sealed="-")
                             for i in range(accounts)])
            now = utcnow()
            today = to_local(now).date()
            campaign = create_campaign(session, lead, CampaignDraft(
                name=f"B6 {uuid.uuid4().hex[:6]}", starts_on=f"{today}",
                ends_on=f"{today + timedelta(days=7)}",
                deadline=EnteredTime.showing(now + timedelta(days=2)), target_kind="district",
                message=MessageDraft("Välfärd före vinster!", "Välfärd före vinster i Värmland.",
                                     "#vpol", "https://example.org/valfard")))
            ids = (lead.id, campaign.id, campaign.messages[0].id)
        start = now.replace(second=0, microsecond=0) + timedelta(hours=1)
        draft = RolloutDraft(ids[2], EnteredTime.showing(start),
                             EnteredTime.showing(start + timedelta(hours=5)))
        began = time.perf_counter()
        with db.session() as session:  # commits on leaving, as the web request does
            rollout(session, session.get(User, ids[0]), ids[1], draft)
        rollout_s = time.perf_counter() - began
        began = time.perf_counter()
        with db.session() as session:
            rows = len(matrix(session, session.get(User, ids[0]), ids[1]).rows)
        matrix_s = time.perf_counter() - began
        with db.session() as session:
            posts = session.scalar(select(func.count()).select_from(Post)) or 0
        assert rows == accounts
        return rollout_s, matrix_s, posts
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    admin_url = os.environ.get("MEGAFON_DATABASE_URL", "")
    if not admin_url.startswith("postgresql"):
        sys.exit("B6 runs on PostgreSQL: set MEGAFON_DATABASE_URL=postgresql+psycopg://…")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    base, _, _ = admin_url.rpartition("/")
    runs = []
    for n in range(args.repeat):
        name = f"megafon_b6_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = f"{base}/{name}"
            migrate.upgrade(url)
            rollout_s, matrix_s, posts = one_run(url, args.accounts)
            print(f"run {n + 1}: rollout_s={rollout_s:.3f} matrix_s={matrix_s:.3f} "
                  f"posts={posts}", flush=True)
            runs.append((rollout_s, matrix_s, posts))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    median = sorted(runs)[len(runs) // 2]
    print(f"B6 accounts={args.accounts} rollout_s={median[0]:.3f} matrix_s={median[1]:.3f} "
          f"posts={median[2]} (median of {len(runs)}; "
          f"spread {statistics.pstdev(r[0] for r in runs):.3f} s)")


if __name__ == "__main__":
    main()
