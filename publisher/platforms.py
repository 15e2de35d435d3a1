"""Which adapter serves which platform, and where it sends its calls (real API or sandbox)."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from publisher.adapters.base import PlatformAdapter
from publisher.adapters.facebook import FacebookAdapter
from publisher.adapters.x import XAdapter
from publisher.models import Platform


@dataclass
class Platforms:
    x: PlatformAdapter
    facebook: PlatformAdapter
    sandbox_url: str | None = None

    def adapter(self, platform: Platform) -> PlatformAdapter:
        return self.x if platform is Platform.X else self.facebook

    @classmethod
    def for_sandbox(cls, sandbox_url: str, timeout: float = 30.0) -> Platforms:
        base = sandbox_url.rstrip("/")
        return cls(
            x=XAdapter(base_url=base, status_url=base + "/sandbox/x/{username}/status/{id}",
                       timeout=timeout),
            facebook=FacebookAdapter(
                base_url=base, timeout=timeout,
                post_url=base + "/sandbox/facebook/{page_id}/posts/{number}"),
            sandbox_url=base,
        )

    @classmethod
    def real(cls, settings: Settings) -> Platforms:
        timeout = float(settings.platform_timeout_seconds)
        return cls(x=XAdapter(timeout=timeout),
                   facebook=FacebookAdapter(version=settings.graph_api_version, timeout=timeout))
