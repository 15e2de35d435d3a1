"""What the monitoring jobs are wired with."""

from __future__ import annotations

import pytest

from core import migrate
from core.settings import Settings
from monitor.fetch import FetchError
from publisher.services import Services
from schedules.monitoring import build_fetcher


def test_with_the_sandbox_on_its_demo_feeds_can_be_polled_without_an_allow_list(services,
                                                                                sandbox):
    """`megafon worker` with MEGAFON_SANDBOX_URL on loopback reads the demo news feeds."""
    fetcher = build_fetcher(services)
    answer = fetcher.fetch(f"{sandbox.url}/sandbox/news/")
    assert answer.status == 200 and answer.body


def test_with_the_sandbox_off_loopback_stays_refused(tmp_path, sandbox):
    settings = Settings.from_env({}, instance_path=tmp_path / "instance",
                                 database_url=f"sqlite:///{tmp_path / 'm.db'}", sandbox="off",
                                 secret_key="test-secret")
    migrate.upgrade(settings.database_url)
    real = Services.from_settings(settings)
    try:
        with pytest.raises(FetchError) as refused:
            build_fetcher(real).fetch(f"{sandbox.url}/sandbox/news/")
        assert refused.value.kind == "blocked"
    finally:
        real.db.dispose()
