"""The control API: how tests, benchmarks and the CLI set the sandbox up and look inside it.

Loopback callers only: it hands out credentials and can break accounts on purpose.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from sandbox import clock
from sandbox.context import current_state
from sandbox.faults import Faults
from sandbox.metrics import check_overrides
from sandbox.state import Account, UnknownAccount

bp = Blueprint("control", __name__, url_prefix="/sandbox/api")


@bp.before_request
def loopback_only() -> Response | None:
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    return None if local else _error(403, "the control API answers loopback callers only")


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _account(key: str) -> Account:
    account = current_state().account(key)
    if account is None:
        abort(_error(404, f"no account {key!r}"))
    return account


def _summary(account: Account) -> dict[str, Any]:
    return {"key": account.key, "platform": account.platform, "name": account.name,
            "username": account.username, "credentials": account.credentials,
            "faults": account.faults.to_dict()}


@bp.get("/accounts")
def list_accounts() -> Response:
    return jsonify([_summary(a) for a in current_state().accounts()])


@bp.post("/accounts")
def add_account() -> Response:
    body = request.get_json(silent=True) or {}
    try:
        creds = current_state().add_account(str(body.get("platform", "")),
                                            str(body.get("name", "")))
    except ValueError as exc:
        return _error(400, str(exc))
    response = jsonify(creds)
    response.status_code = 201
    return response


@bp.get("/accounts/<key>")
def get_account(key: str) -> Response:
    return jsonify(_summary(_account(key)))


@bp.get("/accounts/<key>/posts")
def list_posts(key: str) -> Response:
    include_deleted = request.args.get("include_deleted", "") in ("1", "true")
    state = current_state()
    posts = state.posts(_account(key).key, include_deleted=include_deleted)
    return jsonify([{**p.to_dict(), "media": [m.to_dict() for m in state.media(p.media_ids)]}
                    for p in posts])


@bp.get("/accounts/<key>/in_flight")
def in_flight(key: str) -> Response:
    """How many of the account's calls have arrived and wait out their latency unanswered."""
    return jsonify({"in_flight": current_state().calls_in_flight(_account(key).key)})


@bp.route("/accounts/<key>/faults", methods=["GET", "POST", "PUT"])
def faults(key: str) -> Response:
    account = _account(key)
    if request.method == "GET":
        return jsonify(account.faults.to_dict())
    try:
        new = Faults.from_dict(request.get_json(silent=True) or {})
        return jsonify(current_state().set_faults(account.key, new).to_dict())
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    except UnknownAccount:
        return _error(404, f"no account {key!r}")


@bp.route("/clock", methods=["GET", "POST"])
def sandbox_clock() -> Response:
    """The sandbox's time; POST {"now": ISO-8601 with an offset} moves it there (it ticks on
    from that moment), {"now": null} puts it back on the real clock (sandbox.clock)."""
    if request.method == "POST":
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "now" not in body:
            return _error(400, 'the body must be {"now": ISO-8601 time or null}')
        raw = body["now"]
        try:
            moment = None if raw is None else datetime.fromisoformat(str(raw))
        except ValueError:
            return _error(400, f"not an ISO-8601 time: {raw!r}")
        if moment is not None and moment.tzinfo is None:
            return _error(400, "the time needs an offset (e.g. +00:00)")
        clock.set_now(moment)
    return jsonify({"now": clock.as_datetime().isoformat()})


@bp.post("/reset")
def reset() -> Response:
    body = request.get_json(silent=True) or {}
    current_state().reset(keep_accounts=bool(body.get("keep_accounts", False)))
    return jsonify({"reset": True, "kept_accounts": bool(body.get("keep_accounts", False))})


@bp.route("/posts/<post_id>/metrics", methods=["GET", "POST"])
def post_metrics(post_id: str) -> Response:
    """A post's engagement; POST ages it ({"advance_s"} or {"age_s"}) and/or fixes numbers
    ({"likes", "reposts", "quotes", "impressions", "bookmarks"}: a whole number, null = grow)."""
    state = current_state()
    post = state.post(post_id)
    if post is None:
        return _error(404, f"no post {post_id!r}")
    if request.method == "GET":
        return jsonify(state.metrics(post))
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    try:
        overrides = check_overrides(body)
        unknown = sorted(set(body) - {"advance_s", "age_s", *overrides})
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        ages = {k: body.get(k) for k in ("advance_s", "age_s")}
        for name, value in ages.items():
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float)):
                raise ValueError(f"{name} must be a number of seconds")
        if ages["age_s"] is not None and ages["age_s"] < 0:
            raise ValueError("age_s must be ≥ 0")
    except ValueError as exc:
        return _error(400, str(exc))
    return jsonify(state.set_metrics(post, advance_s=ages["advance_s"], age_s=ages["age_s"],
                                     overrides=overrides))
