from pathlib import Path

import pytest

from core.settings import Settings, SettingsError


def test_defaults_use_sqlite_in_instance_folder(tmp_path: Path):
    settings = Settings.from_env({}, instance_path=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'megafon.db'}"
    assert settings.sandbox_enabled  # no real credentials → sandbox


def test_environment_is_read_and_typed(tmp_path: Path):
    env = {"MEGAFON_PORT": "8080", "MEGAFON_DEMO_DATA": "yes",
           "MEGAFON_INSTANCE_PATH": str(tmp_path)}
    settings = Settings.from_env(env)
    assert (settings.port, settings.demo_data, settings.instance_path) == (8080, True, tmp_path)


def test_real_credentials_switch_the_sandbox_off(tmp_path: Path):
    env = {"MEGAFON_X_CONSUMER_KEY": "k", "MEGAFON_X_CONSUMER_SECRET": "s"}
    assert not Settings.from_env(env, instance_path=tmp_path).sandbox_enabled


@pytest.mark.parametrize("name,value,needle", [
    ("MEGAFON_PORT", "eighty", "MEGAFON_PORT"),
    ("MEGAFON_DEMO_DATA", "maybe", "MEGAFON_DEMO_DATA"),
    ("MEGAFON_SANDBOX", "sometimes", "MEGAFON_SANDBOX"),
    ("MEGAFON_SESSION_COOKIE_SECURE", "sometimes", "MEGAFON_SESSION_COOKIE_SECURE"),
    ("MEGAFON_SESSION_IDLE_MINUTES", "0", "MEGAFON_SESSION_"),
    ("MEGAFON_TRUSTED_PROXIES", "-1", "MEGAFON_TRUSTED_PROXIES"),
])
def test_bad_values_name_the_variable(name, value, needle):
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env({name: value})


def test_cookies_are_secure_when_the_base_url_is_https_unless_told_otherwise():
    assert not Settings.from_env({}).secure_cookies
    https = {"MEGAFON_BASE_URL": "https://megafon.vansterpartiet.se"}
    assert Settings.from_env(https).secure_cookies and Settings.from_env(https).https
    assert not Settings.from_env({**https, "MEGAFON_SESSION_COOKIE_SECURE": "off"}).secure_cookies
    assert Settings.from_env({"MEGAFON_SESSION_COOKIE_SECURE": "on"}).secure_cookies
