"""All settings in one place, read from PENDAMPING_* environment variables or a .env file."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PENDAMPING_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # SecretStr keeps the token out of reprs, tracebacks and logs.
    telegram_token: SecretStr = SecretStr("")
    telegram_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///pendamping.db"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    language: Literal["id", "en"] = "id"

    # The programme rule is 5-10 households; newer regulations allow up to 20.
    group_min_size: int = Field(default=5, ge=1)
    group_max_size: int = Field(default=10, ge=1)
    visit_interval_days: int = Field(default=30, ge=1, le=365)

    # After this many wrong answers to one question the bot offers /batal.
    max_wrong_answers: int = Field(default=3, ge=1)

    # A second database for the test suite (PostgreSQL); empty means SQLite only.
    test_database_url: str = ""

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _check_sizes(self) -> Settings:
        if self.group_min_size > self.group_max_size:
            raise ValueError("group_min_size must not be larger than group_max_size")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
