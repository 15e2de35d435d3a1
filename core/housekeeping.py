"""Rows whose use is over: login throttles past their window, password-reset links used or
expired, API rate windows of past minutes. Deleted by a daily job (schedules.privacy), so these
tables hold what is current, and a used reset link's hash is not kept for ever."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.tokens import WINDOW, ApiTokenWindow
from core.users import LoginThrottle, PasswordReset

THROTTLE_KEPT = timedelta(days=1)  # well past the longest lock (MEGAFON_LOGIN_LOCK_MINUTES)
RESET_KEPT = timedelta(days=1)  # a used or expired link, kept a day for a question about it


def prune(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Delete what is over; how many rows of each table."""
    now = now or utcnow()
    throttles = session.execute(delete(LoginThrottle).where(
        or_(LoginThrottle.last_failure_at.is_(None),
            LoginThrottle.last_failure_at < now - THROTTLE_KEPT),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)))
    resets = session.execute(delete(PasswordReset).where(
        or_(PasswordReset.expires_at < now - RESET_KEPT,
            PasswordReset.used_at < now - RESET_KEPT)))
    windows = session.execute(delete(ApiTokenWindow).where(
        ApiTokenWindow.window_start < now - 2 * WINDOW))
    return {"login_throttles": throttles.rowcount or 0,
            "password_resets": resets.rowcount or 0,
            "api_token_windows": windows.rowcount or 0}
