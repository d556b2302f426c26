"""Configuration: THIDUA_* variables, .env and --config TOML, with one clear line for a bad setting."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.engine.config import ConfigError, load_settings
from bot.engine.logs import REDACTED, RedactSecrets


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DATABASE_URL",
        "TELEGRAM_TOKEN",
        "TELEGRAM_API_URL",
        "ADMINS",
        "LANGUAGE",
        "TIMEZONE",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "LOG_FORMAT",
    ):
        monkeypatch.delenv(f"THIDUA_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_design() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///thidua.db"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.language == "vi" and settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.telegram_token is None and settings.admins == ()


def test_environment_beats_dotenv_which_beats_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "thidua.toml"
    config.write_text('THIDUA_LANGUAGE = "en"\ntimezone = "Asia/Bangkok"\nadmins = "telegram:1"\n')
    (tmp_path / ".env").write_text("THIDUA_TIMEZONE=Asia/Tokyo\n")
    monkeypatch.setenv("THIDUA_ADMINS", "telegram: 7, zalo:abc")
    settings = load_settings(config)
    assert settings.language == "en"
    assert settings.timezone == "Asia/Tokyo"
    assert settings.admins == ("telegram:7", "zalo:abc")  # a space after the colon was never matched
    assert settings.is_admin("zalo", "abc")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "THIDUA_TELEGRAM_API_URL",
            "api.telegram.org",
            "THIDUA_TELEGRAM_API_URL: must be an http:// or https:// URL",
        ),
        ("THIDUA_DATABASE_URL", "mysql://x", "THIDUA_DATABASE_URL: must start with sqlite://"),
        ("THIDUA_ADMINS", "telegram123", "THIDUA_ADMINS: 'telegram123' is not of the form"),
        (
            "THIDUA_ADMINS",
            "telegram:@hung",
            "THIDUA_ADMINS: 'telegram:@hung': a Telegram user id is a number",
        ),
        ("THIDUA_TIMEZONE", "Mars/Base", "THIDUA_TIMEZONE: is not a known time zone"),
        ("THIDUA_LANGUAGE", "fr", "THIDUA_LANGUAGE:"),
        ("THIDUA_LISTEN", "8080", "THIDUA_LISTEN: must be HOST:PORT"),
        ("THIDUA_WEBHOOK_SECRET", "short", "THIDUA_WEBHOOK_SECRET: must be 8 to 256 of the characters"),
        ("THIDUA_WEBHOOK_SECRET", "has spaces in it", "THIDUA_WEBHOOK_SECRET: must be 8 to 256"),
        ("THIDUA_LOG_FORMAT", "xml", "THIDUA_LOG_FORMAT:"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_database_url_as_operators_write_it(monkeypatch: pytest.MonkeyPatch) -> None:
    asyncpg = "postgresql+asyncpg://union:pw@10.0.0.5:5432/thidua"
    for typed in (
        asyncpg,
        "postgresql://union:pw@10.0.0.5:5432/thidua",
        "postgres://union:pw@10.0.0.5:5432/thidua",
    ):
        monkeypatch.setenv("THIDUA_DATABASE_URL", typed)
        assert load_settings().database_url == asyncpg
    for no_file in ("sqlite://", "sqlite:///", "sqlite+aiosqlite:///"):
        monkeypatch.setenv("THIDUA_DATABASE_URL", no_file)
        with pytest.raises(ConfigError, match=r"^THIDUA_DATABASE_URL: names no file: sqlite:///thidua.db"):
            load_settings()
    monkeypatch.setenv("THIDUA_DATABASE_URL", "postgresql+psycopg2://union@10.0.0.5/thidua")
    with pytest.raises(
        ConfigError, match=r"^THIDUA_DATABASE_URL: must start with sqlite:// or postgresql://"
    ):
        load_settings()


def test_a_misspelt_key_in_the_config_file_is_named_with_the_setting_meant(tmp_path: Path) -> None:
    config = tmp_path / "thidua.toml"
    config.write_text('language = "en"\ntelegram_tokn = "123:ABC"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == (
        f"--config {config}: telegram_tokn is not a setting (did you mean telegram_token?)"
    )
    config.write_text("THIDUA_TELEGRAM_RATES = 100\n")
    with pytest.raises(
        ConfigError, match=r"THIDUA_TELEGRAM_RATES is not a setting \(did you mean THIDUA_TELEGRAM_RATE\?\)$"
    ):
        load_settings(config)
    config.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match=r"colour is not a setting$"):
        load_settings(config)


def test_webhook_mode_needs_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THIDUA_WEBHOOK_URL", "https://bot.example.vn/thidua/")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == "THIDUA_WEBHOOK_SECRET must be set when THIDUA_WEBHOOK_URL is"
    monkeypatch.setenv("THIDUA_WEBHOOK_SECRET", "a-long_Secret-42")
    settings = load_settings()
    assert settings.webhook_url == "https://bot.example.vn/thidua"
    assert "a-long_Secret-42" in settings.secrets()


def test_an_unreadable_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config .*missing\.toml: cannot read"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("language = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)


def test_the_token_never_reaches_a_log_line() -> None:
    token = "123456:SECRET-TOKEN"
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: POST %s",
        (f"https://api.telegram.org/bot{token}/getUpdates",),
        None,
    )
    try:
        raise RuntimeError(f"failed calling /bot{token}/sendMessage")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecrets([token]).filter(record)
    rendered = logging.Formatter().format(record)
    assert token not in rendered
    assert rendered.count(REDACTED) == 2
