"""Configuration from THIDUA_* environment variables, a ``.env`` file or a TOML file given by ``--config``.

Precedence: the environment, then ``.env``, then the TOML file, then the defaults of DESIGN.md §5.
A missing or malformed setting stops start-up with ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.domain.titles import DEFAULT_CAPS, TitleCap, parse_caps
from messages import has_key

CHANNELS = ("telegram", "zalo")
ENV_PREFIX = "THIDUA_"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{8,256}")
TELEGRAM_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)  # a Telegram user id: a positive number
# The levels that grant commendations, by how many steps above a base union (CĐCS) they stand: the unit
# directly above (a district federation or a sector union), the province federation, the Tổng Liên đoàn.
COMMENDATION_LEVELS = {"district": 1, "province": 2, "national": 3}
# Each commendation form (its name is messages' commendation.form_<code>) and the level that grants it.
COMMENDATION_FORMS = (
    ("district_certificate", "district"),  # Giấy khen of the district federation
    ("province_merit", "province"),  # Bằng khen of the province federation
    ("national_merit", "national"),  # Bằng khen of the Tổng Liên đoàn
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class _TomlSource(PydanticBaseSettingsSource):
    """Reads a TOML file whose keys are either ``database_url`` or ``THIDUA_DATABASE_URL``."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.values: dict[str, Any] = {}
        if path is not None:
            try:
                with path.open("rb") as handle:
                    raw = tomllib.load(handle)
            except OSError as error:
                raise ConfigError(f"--config {path}: cannot read the file ({error.strerror})") from error
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(f"--config {path}: not valid TOML ({error})") from error
            self.values = {key.lower().removeprefix(ENV_PREFIX.lower()): value for key, value in raw.items()}
            for key, name in zip(raw, self.values, strict=True):
                # A typo would otherwise leave the default, silently.
                if name not in settings_cls.model_fields:
                    raise ConfigError(f"--config {path}: {key} is not a setting{_did_you_mean(key, name)}")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: value for name, value in self.values.items() if name in self.settings_cls.model_fields}


def _did_you_mean(key: str, name: str) -> str:
    """ " (did you mean telegram_token?)" for a key close to a setting's name, in the key's own spelling."""
    close = difflib.get_close_matches(name, list(Settings.model_fields), n=1)
    if not close:
        return ""
    suggestion = f"{ENV_PREFIX}{close[0].upper()}" if key.upper() == key else close[0]
    return f" (did you mean {suggestion}?)"


class Settings(BaseSettings):
    """Every setting of the service; field ``x`` is the variable ``THIDUA_X``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    database_url: str = "sqlite:///thidua.db"
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    admins: Annotated[tuple[str, ...], NoDecode] = ()
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1:8080"
    file_secret: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    reminder_grace_hours: float = Field(default=6.0, ge=0)
    review_scale: int = Field(default=10, ge=2, le=100)
    telegram_rate: float = Field(default=30.0, gt=0, le=10000)
    zalo_rate: float = Field(default=5.0, gt=0, le=1000)
    outbox_concurrency: int = Field(default=32, ge=1, le=1000)
    send_timeout: float = Field(default=30.0, gt=0)
    export_timeout: float = Field(default=120.0, gt=0)  # seconds an /export's child process may take
    retry_window_minutes: float = Field(default=30.0, gt=0)
    quiet_hours: bool = True  # false: messages go out at any hour (the demo's way)
    dialog_expiry_hours: int = Field(default=24, ge=1)
    invite_days: int = Field(default=30, ge=1)
    link_code_days: int = Field(default=30, ge=1)
    # Caps on titles at the evaluation, "title:percent:of_title" comma-separated (bot/domain/titles.py).
    title_caps: str = DEFAULT_CAPS
    commendation_forms: Annotated[tuple[tuple[str, str], ...], NoDecode] = COMMENDATION_FORMS

    toml_path: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings, _TomlSource(settings_cls, cls.toml_path)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        # postgresql:// and postgres:// (as hosting providers and psql write it) mean the driver we use.
        scheme, separator, rest = value.partition("://")
        if separator and scheme in ("postgresql", "postgres"):
            return f"postgresql+asyncpg://{rest}"
        # sqlite+aiosqlite:// is what earlier versions wrote: the same file, on the same driver now.
        if not value.startswith(("sqlite://", "sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite:// or postgresql:// (postgresql+asyncpg://)")
        if scheme.startswith("sqlite") and not rest.lstrip("/").partition("?")[0]:
            raise ValueError(
                "names no file: sqlite:///thidua.db (in the working directory) or sqlite:////var/lib/thidua.db"
            )
        return value

    @field_validator("telegram_api_url", "zalo_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("admins", mode="before")
    @classmethod
    def _admin_list(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        admins = []
        for item in (str(item).strip() for item in items):
            if not item:
                continue
            channel, _, user_id = (part.strip() for part in item.partition(":"))
            if channel not in CHANNELS or not user_id:
                raise ValueError(f"{item!r} is not of the form telegram:123 or zalo:abc")
            if channel == "telegram" and not TELEGRAM_ID.fullmatch(user_id):  # never matched, in silence
                raise ValueError(f"{item!r}: a Telegram user id is a number, e.g. telegram:123456")
            admins.append(f"{channel}:{user_id}")
        return tuple(admins)

    @field_validator("title_caps")
    @classmethod
    def _caps(cls, value: str) -> str:
        parse_caps(value)
        return value

    @property
    def caps(self) -> tuple[TitleCap, ...]:
        """The caps on titles the evaluation enforces."""
        return parse_caps(self.title_caps)

    @field_validator("commendation_forms", mode="before")
    @classmethod
    def _forms(cls, value: object) -> tuple[tuple[str, str], ...]:
        # "district_certificate:district,province_merit:province" in the environment; a table in TOML.
        if isinstance(value, str):
            pairs = [item.strip().partition(":")[::2] for item in value.split(",") if item.strip()]
        elif isinstance(value, dict):
            pairs = [(str(form), str(level)) for form, level in value.items()]
        else:
            pairs = [(str(form), str(level)) for form, level in value]  # type: ignore[attr-defined]
        for form, level in pairs:
            if not has_key(f"commendation.form_{form}"):
                raise ValueError(f"{form!r} is not a commendation form the catalogs name")
            if level not in COMMENDATION_LEVELS:
                raise ValueError(f"{form}: the level must be one of {', '.join(COMMENDATION_LEVELS)}")
        if not pairs or len({form for form, _ in pairs}) != len(pairs):
            raise ValueError("name each form once, as form:level, e.g. district_certificate:district")
        return tuple((form, level) for form, level in pairs)

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("is not a known time zone such as Asia/Ho_Chi_Minh") from error
        return value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram takes 1-256 of A-Z a-z 0-9 _ -; Zalo 8-256 characters: the secret must suit both.
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 8 to 256 of the characters A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("THIDUA_WEBHOOK_SECRET must be set when THIDUA_WEBHOOK_URL is")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    def is_admin(self, channel: str, user_id: str) -> bool:
        """True when this identity is listed in THIDUA_ADMINS."""
        return f"{channel}:{user_id}" in self.admins

    def secrets(self) -> list[str]:
        """Every secret value set, so logging can blank them out."""
        found = [self.telegram_token, self.zalo_token, self.webhook_secret, self.file_secret]
        return [secret.get_secret_value() for secret in found if secret is not None]


def unknown_settings(environ: Mapping[str, str], dotenv: Path = Path(".env")) -> list[str]:
    """A line for each ``THIDUA_*`` name set in the environment or ``.env`` that is no setting (a typo,
    which would leave the default in silence), with the setting it likely means; ``THIDUA_TEST_*`` are the
    test suite's own."""
    names = [name for name in environ if name.startswith(ENV_PREFIX)]
    if dotenv.is_file():
        names += [name for name in dotenv_values(dotenv) if name.startswith(ENV_PREFIX)]
    lines = []
    for name in dict.fromkeys(names):
        field = name.removeprefix(ENV_PREFIX).lower()
        if field not in Settings.model_fields and not name.startswith(f"{ENV_PREFIX}TEST_"):
            lines.append(f"{name} is not a setting{_did_you_mean(name, field)}; it is ignored")
    return lines


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """The settings, or ``ConfigError`` with one line naming the first bad variable."""
    source = type("FileSettings", (Settings,), {"toml_path": config_file})
    try:
        return source(**overrides)  # type: ignore[no-any-return]
    except ValidationError as error:
        first = error.errors()[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule between settings names them itself
            raise ConfigError(reason) from None
        raise ConfigError(f"{ENV_PREFIX}{str(first['loc'][0]).upper()}: {reason}") from None
