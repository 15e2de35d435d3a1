"""The web fixtures (the app, logged-in clients, a live Megafon for Chromium) for campaigns."""

from tests.web.conftest import app, client, logged_in, megafon  # noqa: F401
