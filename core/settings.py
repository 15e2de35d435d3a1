"""One typed settings object, read from MEGAFON_* environment variables (12-factor).

Every setting has a default that makes `make run` work on a fresh machine; the README lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "MEGAFON_"


class SettingsError(ValueError):
    """A setting has a value Megafon cannot use; the message names the variable."""


def _as_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")


def _as_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Megafon's configuration. Field names map to MEGAFON_<NAME upper-cased>."""

    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    database_url: str = ""
    secret_key: str = ""
    old_secret_keys: str = ""
    host: str = "127.0.0.1"
    port: int = 5000
    timezone: str = "Europe/Stockholm"
    default_locale: str = "sv"
    sandbox: str = "auto"
    sandbox_port: int = 5001
    sandbox_url: str = ""
    x_consumer_key: str = ""
    x_consumer_secret: str = ""
    facebook_app_id: str = ""
    facebook_app_secret: str = ""
    graph_api_version: str = "v21.0"
    run_scheduler: bool = False
    dispatch_interval_seconds: int = 5
    dispatch_batch_size: int = 20
    lease_seconds: int = 120
    dispatch_concurrency: int = 8
    platform_timeout_seconds: int = 30
    max_lateness_minutes: int = 30
    retry_base_seconds: int = 5
    retry_max_seconds: int = 300
    reconcile_interval_seconds: int = 30
    login_max_failures: int = 5  # wrong passwords for one address before it waits
    login_lock_minutes: int = 15  # the longest wait for one address, and a client's pause
    login_client_max_failures: int = 20  # failed logins from one client (IP) per lock period
    session_idle_minutes: int = 120  # a session unused this long ends
    session_max_hours: int = 12  # a session ends this long after logging in, used or not
    session_cookie_secure: str = "auto"  # auto (when base_url is https), on or off
    password_reset_minutes: int = 60  # how long an e-mailed reset link works (once)
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For/-Proto to believe
    demo_data: bool = False
    base_url: str = ""
    smtp_url: str = ""
    mail_from: str = "megafon@localhost"
    log_level: str = "INFO"
    fetch_allow: str = ""  # hosts, IPs and CIDRs feeds may be fetched from despite being private
    fetch_timeout_seconds: int = 10
    fetch_max_bytes: int = 5_000_000
    source_failure_alert_minutes: int = 60
    own_party: str = "V"  # the organisation's party code: highlighted in share of voice
    api_requests_per_minute: int = 120  # per API token, counted in the database (core.tokens)
    personal_data_days: int = 90  # private persons' posts keep their words this long (privacy)

    def __post_init__(self) -> None:
        if not self.database_url:
            db_file = self.instance_path / "megafon.db"
            object.__setattr__(self, "database_url", f"sqlite:///{db_file}")
        if self.sandbox not in {"auto", "on", "off"}:
            raise SettingsError(
                f"{ENV_PREFIX}SANDBOX must be auto, on or off, not {self.sandbox!r}")
        if self.lease_seconds <= self.platform_timeout_seconds:
            # A lease that ends while its holder may still be talking to the platform would let
            # recovery reconcile too early and resend: leases must outlive every call.
            raise SettingsError(f"{ENV_PREFIX}LEASE_SECONDS must be longer than "
                                f"{ENV_PREFIX}PLATFORM_TIMEOUT_SECONDS")
        if self.session_cookie_secure not in {"auto", "on", "off"}:
            raise SettingsError(f"{ENV_PREFIX}SESSION_COOKIE_SECURE must be auto, on or off")
        if min(self.session_idle_minutes, self.session_max_hours, self.login_max_failures,
               self.login_lock_minutes, self.login_client_max_failures,
               self.password_reset_minutes) < 1:
            raise SettingsError(f"{ENV_PREFIX}SESSION_*, LOGIN_* and PASSWORD_RESET_MINUTES "
                                "must be at least 1")
        if self.trusted_proxies < 0:
            raise SettingsError(f"{ENV_PREFIX}TRUSTED_PROXIES must be 0 or more")
        if self.default_locale not in {"sv", "en"}:
            raise SettingsError(f"{ENV_PREFIX}DEFAULT_LOCALE must be sv or en")
        object.__setattr__(self, "own_party", self.own_party.strip().upper())

    @property
    def real_platforms_configured(self) -> bool:
        """Real app credentials mean Megafon talks to the real X and Facebook."""
        return bool(self.x_consumer_key and self.x_consumer_secret) or bool(
            self.facebook_app_id and self.facebook_app_secret
        )

    @property
    def sandbox_enabled(self) -> bool:
        if self.sandbox == "auto":
            return not self.real_platforms_configured
        return self.sandbox == "on"

    @property
    def fetch_allow_list(self) -> list[str]:
        return [entry.strip() for entry in self.fetch_allow.split(",") if entry.strip()]

    @property
    def https(self) -> bool:
        """Megafon is reached over HTTPS (its base URL says so): cookies Secure, HSTS sent."""
        return self.base_url.lower().startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        if self.session_cookie_secure == "auto":
            return self.https
        return self.session_cookie_secure == "on"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment; keyword overrides win (tests use them)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            kind = str(f.type)
            if kind == "bool":
                values[f.name] = _as_bool(f.name.upper(), raw)
            elif kind == "int":
                values[f.name] = _as_int(f.name.upper(), raw)
            elif kind == "Path":
                values[f.name] = Path(raw).resolve()
            else:
                values[f.name] = raw
        values.update(overrides)
        if isinstance(values.get("instance_path"), str):
            values["instance_path"] = Path(str(values["instance_path"])).resolve()
        return cls(**values)  # type: ignore[arg-type]

    def ensure_instance_path(self) -> Path:
        self.instance_path.mkdir(parents=True, exist_ok=True)
        return self.instance_path
