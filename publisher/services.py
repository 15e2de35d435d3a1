"""The publisher's collaborators built once from settings: database, credential box, platforms.

Web, worker and command line each build one of these at start; tests build their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.crypto import CredentialBox
from core.db import Database
from core.settings import Settings
from publisher.platforms import Platforms


def sandbox_url_for(settings: Settings) -> str | None:
    if not settings.sandbox_enabled:
        return None
    return settings.sandbox_url or f"http://127.0.0.1:{settings.sandbox_port}"


@dataclass
class Services:
    settings: Settings
    db: Database
    box: CredentialBox
    platforms: Platforms

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> Services:
        sandbox = sandbox_url_for(settings)
        timeout = float(settings.platform_timeout_seconds)
        platforms = (Platforms.for_sandbox(sandbox, timeout=timeout) if sandbox
                     else Platforms.real(settings))
        # Enough pooled connections for every publishing thread plus the scheduler's other jobs:
        # a connection opened and closed per call costs more than the call's own queries.
        pool_size = settings.dispatch_concurrency + 8
        return cls(settings=settings,
                   db=db or Database(settings.database_url, pool_size=pool_size),
                   box=CredentialBox.from_settings(settings), platforms=platforms)
