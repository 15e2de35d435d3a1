"""Role checks at the door of a view: anonymous users get the login page, a wrong role the
refusal that `core.auth.require` raises (answered 403 by web/errors.py). The domain service
behind the view checks again, with the organisation; this only keeps a page from being built."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from core.auth import Action, require


def requires(action: Action) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            require(current_user, action)
            return view(*args, **kwargs)

        return guarded

    return decorate
