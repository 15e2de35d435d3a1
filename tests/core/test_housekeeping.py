"""Spent rows go: login throttles past their window (a lock still running stays), password-reset
links used or expired a day ago, API rate windows of past minutes. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.auth import create_user
from core.db import Database
from core.housekeeping import prune
from core.tokens import ApiTokenWindow, create_token
from core.users import LoginThrottle, PasswordReset, Role

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


def test_spent_rows_go_and_current_ones_stay(any_db_url: str):
    db = Database(any_db_url)
    try:
        with db.session() as session:
            user = create_user(session, email="anna@example.org", name="Anna",
                               password="correct horse battery", role=Role.COMMS)
            token = create_token(session, user, user, "skript", "read").token
            day = timedelta(days=1)
            session.add_all([
                LoginThrottle(key="account:old", failures=3, last_failure_at=NOW - 2 * day),
                LoginThrottle(key="account:fresh", failures=3, last_failure_at=NOW),
                LoginThrottle(key="client:locked", failures=30, last_failure_at=NOW - 2 * day,
                              locked_until=NOW + timedelta(minutes=5)),
                PasswordReset(user_id=user.id, token_hash="a" * 64, created_at=NOW - 3 * day,
                              expires_at=NOW - 2 * day),
                PasswordReset(user_id=user.id, token_hash="b" * 64, created_at=NOW,
                              expires_at=NOW + timedelta(hours=1)),
                ApiTokenWindow(token_id=token.id, window_start=NOW - timedelta(minutes=5),
                               requests=7),
                ApiTokenWindow(token_id=token.id, window_start=NOW.replace(second=0),
                               requests=2)])
        with db.session() as session:
            assert prune(session, NOW) == {"login_throttles": 1, "password_resets": 1,
                                           "api_token_windows": 1}
        with db.session() as session:
            assert sorted(session.scalars(select(LoginThrottle.key))) == [
                "account:fresh", "client:locked"]
            assert session.scalars(select(PasswordReset.token_hash)).all() == ["b" * 64]
            assert session.scalars(select(ApiTokenWindow.requests)).all() == [2]
    finally:
        db.dispose()
