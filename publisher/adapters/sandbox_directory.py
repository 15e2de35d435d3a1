"""The built-in sandbox's control API: make a sandbox account to connect, in one click.

Only used when Megafon runs against the sandbox; the credentials it returns are then verified
and stored exactly like real ones.
"""

from __future__ import annotations

import requests

from publisher.adapters.base import ErrorKind, PlatformError


class SandboxDirectory:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def create_account(self, platform: str, name: str) -> dict[str, str]:
        try:
            response = requests.post(f"{self.base_url}/sandbox/api/accounts",
                                     json={"platform": platform, "name": name},
                                     timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise PlatformError(ErrorKind.TRANSIENT,
                                f"the sandbox at {self.base_url} did not answer: {exc}") from exc
        return {k: str(v) for k, v in response.json().items()}
