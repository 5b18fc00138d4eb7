"""All settings in one place, read from PENDAMPING_* environment variables or a .env file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.enums import Stage
from bot.core.reminder_rules import Rules

DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PENDAMPING_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # SecretStr keeps the token out of reprs, tracebacks and logs.
    telegram_token: SecretStr = SecretStr("")
    # Encrypts NIKs, phone numbers and drafts at rest (models.crypto); `pendamping key new`.
    data_key: SecretStr = SecretStr("")
    telegram_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///pendamping.db"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    language: Literal["id", "en"] = "id"

    # The programme rule is 5-10 households; newer regulations allow up to 20.
    group_min_size: int = Field(default=5, ge=1)
    group_max_size: int = Field(default=10, ge=1)
    visit_interval_days: int = Field(default=30, ge=1, le=365)
    # How long after saving a visit its mentor may still correct it (/riwayat, Perbaiki).
    visit_correction_days: int = Field(default=7, ge=0, le=365)

    # A plain number under these Rupiah is asked back ("Maksudnya Rp 50.000?"): at a visit's
    # figures (omzet, keuntungan, kas, IKS) and at a grant's amount (handlers.amount_check).
    amount_floor: int = Field(default=1_000, ge=0)
    grant_amount_floor: int = Field(default=100_000, ge=0)

    # After this many wrong answers to one question the bot offers /batal.
    max_wrong_answers: int = Field(default=3, ge=1)

    # What an uploaded workbook may hold once unpacked (models.exchange.safezip): a zip bomb
    # is refused before it is parsed, and a lying one as it is read.
    import_max_entries: int = Field(default=300, ge=10)
    import_max_unzipped_mb: int = Field(default=50, ge=1)
    import_max_part_mb: int = Field(default=25, ge=1)
    import_max_ratio: int = Field(default=200, ge=10)

    # Off only in tests that drive the sweep by hand with a fixed clock.
    reminders_enabled: bool = True
    # Reminders. Times are local to the group's province (WIB/WITA/WIT).
    reminder_sweep_seconds: int = Field(default=60, ge=5)
    # Reminders missed for longer (calendar days, an outage) are told as one "not sent for a
    # while" digest of how things stand now; their rules go on from the next day.
    reminder_catchup_days: int = Field(default=3, ge=0)
    reminder_hour: int = Field(default=7, ge=0, le=23)
    quiet_hours_start: int = Field(default=21, ge=0, le=23)
    quiet_hours_end: int = Field(default=6, ge=0, le=23)
    visit_overdue_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [1, 3, 7])
    visit_overdue_every_days: int = Field(default=7, ge=1)
    escalation_days: int = Field(default=14, ge=1)
    rollover_warning_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [30, 7, 1])
    rollover_overdue_every_days: int = Field(default=7, ge=1)
    rollover_default_months: int = Field(default=12, ge=1, le=60)
    # The signs of each stage shown when it is changed, in an office's own words (JSON, e.g.
    # {"tumbuh": "usaha berjalan, ..."}); a stage left out keeps the bot's words.
    stage_signs: dict[str, str] = Field(default_factory=dict)
    # The LPJ (a grant's account) is due this many months after the grant was received.
    lpj_months: int = Field(default=3, ge=1, le=24)
    lpj_warning_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [14, 1])
    lpj_overdue_every_days: int = Field(default=7, ge=1)
    # A digest waits while the mentor is answering questions, but not for an abandoned draft.
    conversation_defer_minutes: int = Field(default=30, ge=0)

    # Broadcasts (/siaran). The outbox worker runs beside the bot; tests may turn it off and
    # drive scheduler.outbox.Outbox by hand. Telegram allows ~30 messages/s overall and 1/s per
    # chat; the outbox keeps below that so the bot's own replies still fit.
    # What Telegram lets this token send per second overall (30; more with paid broadcasts):
    # reminders and broadcasts together leave one message a second of it for answers
    # (bot.telegram.ratelimit).
    telegram_rate_per_second: float = Field(default=30, gt=1)
    broadcasts_enabled: bool = True
    broadcast_rate_per_second: float = Field(default=28, gt=0)
    broadcast_per_chat_per_second: float = Field(default=1, gt=0)
    broadcast_progress_seconds: float = Field(default=3, gt=0)
    broadcast_max_attempts: int = Field(default=3, ge=1)

    # A database that is locked (SQLite: another writer) or unreachable: wait this long, then
    # tell the user to wait and handle the message again, up to db_retry_attempts times,
    # db_retry_seconds apart (doubling).
    database_busy_seconds: float = Field(default=5, gt=0)
    db_retry_attempts: int = Field(default=5, ge=0)
    db_retry_seconds: float = Field(default=2, gt=0)

    # `pendamping run` serves on uvloop where it is installed (bot.lifecycle.loop_factory);
    # "asyncio" keeps Python's own event loop.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Updates of different users run side by side (at most this many at once), each user's in
    # order. Someone sending more than the burst, then more than per_second, is slowed down.
    max_running_updates: int = Field(default=64, ge=1)
    throttle_burst: int = Field(default=20, ge=1)
    throttle_per_second: float = Field(default=4, gt=0)

    # `pendamping run`: long polling, or with --webhook the bot's own webhook server, on this
    # machine only (a reverse proxy in front serves the public https URL; README: Deployment).
    # A post larger than the body limit is refused before it is read (Telegram's updates are a
    # few kilobytes). Every instance has a health endpoint (0 turns it off); with PostgreSQL one
    # instance leads and the others wait as standbys, looking at the lease this often.
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    webhook_url: str = ""
    webhook_path: str = "telegram"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr = SecretStr("")
    webhook_body_limit: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Handled updates are remembered this long, to recognise a redelivery (Telegram redelivers
    # for a day at most), then forgotten.
    received_keep_hours: float = Field(default=48, ge=25)
    health_host: str = "0.0.0.0"
    health_port: int = Field(default=8080, ge=0, le=65535)
    leader_poll_seconds: float = Field(default=2, gt=0, le=10)
    # The leader's lease (PostgreSQL, bot.leader): renewed this often, and taken over by a
    # standby when it was not renewed for this long (a hung leader too, not only a dead one).
    leader_lease_seconds: float = Field(default=15, ge=1, le=120)
    leader_renew_seconds: float = Field(default=5, gt=0, le=60)

    # The coordinator's dashboard (bot.web): a Telegram Mini App and a small JSON API served
    # by the bot's own process on this machine (a reverse proxy in front serves dashboard_url,
    # the public https address Telegram opens; README: Deployment). 0 turns it off. A one-time
    # link for a browser outside Telegram works once, for link_minutes; a Mini App's initData
    # is taken for init_max_age_seconds. The map's tiles come from tiles_url (the page works
    # without them). A visit logged farther than visit_far_km from its group's place is marked.
    dashboard_url: str = ""
    dashboard_listen: str = "127.0.0.1"
    dashboard_port: int = Field(default=8081, ge=0, le=65535)
    dashboard_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    dashboard_init_max_age_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    dashboard_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    visit_far_km: float = Field(default=2.0, gt=0, le=1000)

    # Requests to Telegram give up after this long (connect, send, answer). A message whose
    # answer did not come is never sent again: it may have arrived (bot.telegram.transport).
    telegram_timeout_seconds: float = Field(default=10, gt=0, le=120)

    # A second database for the test suite (PostgreSQL); empty means SQLite only.
    test_database_url: str = ""

    @field_validator("admin_ids", "visit_overdue_days", "rollover_warning_days",
                     "lpj_warning_days", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("stage_signs")
    @classmethod
    def _known_stages(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {str(stage) for stage in Stage})
        if unknown:
            raise ValueError(f"unknown stage {', '.join(unknown)}; the stages are "
                             f"{', '.join(str(stage) for stage in Stage)}")
        return {stage: " ".join(text.split()) for stage, text in value.items() if text.strip()}

    @field_validator("database_url", "test_database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Only the two async drivers the project installs; a common slip gets the fix."""
        if not value or value.startswith(DRIVERS):
            return value
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.startswith("sqlite"):
            hint = "sqlite+aiosqlite://" + value.split("://", 1)[1]
        elif scheme.startswith("postgres"):
            hint = "postgresql+asyncpg://" + "user@host:5432/database"
        else:
            hint = "sqlite+aiosqlite:///pendamping.db or postgresql+asyncpg://user@host/db"
        raise ValueError(f"must start with {' or '.join(DRIVERS)}, for example {hint}")

    @model_validator(mode="after")
    def _check_sizes(self) -> Settings:
        if self.group_min_size > self.group_max_size:
            raise ValueError("PENDAMPING_GROUP_MIN_SIZE must not be larger than "
                             "PENDAMPING_GROUP_MAX_SIZE")
        if self.broadcast_rate_per_second >= self.telegram_rate_per_second:
            # The bot's answers to mentors need what the broadcasts leave of Telegram's limit.
            raise ValueError("PENDAMPING_BROADCAST_RATE_PER_SECOND must be below "
                             "PENDAMPING_TELEGRAM_RATE_PER_SECOND")
        if self.leader_renew_seconds > self.leader_lease_seconds / 2:
            # A leader gets at least two tries to renew before it must stop sending.
            raise ValueError("PENDAMPING_LEADER_RENEW_SECONDS must be at most half of "
                             "PENDAMPING_LEADER_LEASE_SECONDS")
        return self

    @property
    def reminder_rules(self) -> Rules:
        return Rules(
            hour=self.reminder_hour,
            visit_overdue_days=tuple(sorted(self.visit_overdue_days)),
            visit_overdue_every=self.visit_overdue_every_days,
            escalation_days=self.escalation_days,
            rollover_warning_days=tuple(sorted(self.rollover_warning_days, reverse=True)),
            rollover_overdue_every=self.rollover_overdue_every_days,
            lpj_warning_days=tuple(sorted(self.lpj_warning_days, reverse=True)),
            lpj_overdue_every=self.lpj_overdue_every_days,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

