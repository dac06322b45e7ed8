"""Application settings: the engine's, plus what the command line and the bot need."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from embeddings.settings import EngineSettings

# Comma-separated Discord ids in the environment ("123, 456"), a tuple of ints in code.
IdList = Annotated[tuple[int, ...], NoDecode]
# Shard numbers and ranges in the environment ("0-3,6"), a tuple of ints in code.
ShardList = Annotated[tuple[int, ...], NoDecode]


class AppSettings(EngineSettings):
    """All settings of a newsbot process; build once in ``main()``.

    The Discord token and endpoint overrides keep the names every Discord tool uses
    (``DISCORD_TOKEN``, ``DISCORD_API_BASE_URL``, ``DISCORD_GATEWAY_URL``), without the
    ``NEWSBOT_`` prefix. Every field is documented in ``.env.example``.
    """

    # Lets code and tests pass ``discord_token=...`` as well as the un-prefixed alias.
    model_config = SettingsConfigDict(populate_by_name=True)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"

    discord_token: SecretStr | None = Field(
        None, validation_alias="DISCORD_TOKEN", description="The bot token; required by `newsbot serve`."
    )
    discord_api_base_url: str | None = Field(
        None,
        validation_alias="DISCORD_API_BASE_URL",
        description="REST base including the version, e.g. http://127.0.0.1:8080/api/v10.",
    )
    discord_gateway_url: str | None = Field(
        None,
        validation_alias="DISCORD_GATEWAY_URL",
        description="Gateway websocket URL, e.g. ws://127.0.0.1:8080/gateway.",
    )

    guild_ids: IdList = Field((), description="Sync slash commands to these servers only (instant).")
    channels: IdList = Field((), description="Channels where every message is a question.")
    admin_role_ids: IdList = Field((), description="Roles that may /reload besides Manage Server.")
    cooldown_questions: int = Field(
        10, ge=0, le=1000, description="Burst of questions per user, refilled over cooldown_seconds; 0 = no limit."
    )
    cooldown_seconds: float = Field(60.0, gt=0, le=86_400, description="Time to refill the whole burst.")
    watch: bool = Field(False, description="Watch the seeds folder and re-index after changes settle.")
    watch_settle_seconds: float = Field(1.0, gt=0, le=600, description="Quiet time before a watched change refreshes.")
    cooldown_follow_up_cost: float = Field(
        0.5, ge=0, le=1, description="What a follow-up (reply or thread message) costs; a new question costs 1."
    )

    # Scaling out (docs/DEPLOYMENT.md): shards of one bot spread over processes, one database.
    shard_count: int | None = Field(None, ge=1, le=65_536, description="Shards in all; set: run sharded.")
    shard_ids: ShardList = Field((), description="This process's shards, e.g. 0-3 or 0,1; empty: all.")
    follow_seconds: float = Field(10.0, gt=0, le=3_600, description="How often a replica looks for a new index.")

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shards(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        shards: list[int] = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            first, _, last = part.partition("-")
            if not first.strip().isdigit() or (last and not last.strip().isdigit()):
                raise ValueError("expected shard numbers and ranges, e.g. 0-3 or 0,2,4")
            shards.extend(range(int(first), int(last or first) + 1))
        return tuple(dict.fromkeys(shards))

    @model_validator(mode="after")
    def _shards_fit(self) -> AppSettings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("NEWSBOT_SHARD_IDS needs NEWSBOT_SHARD_COUNT (the number of shards in all)")
        if self.shard_count is not None and any(s >= self.shard_count for s in self.shard_ids):
            raise ValueError(f"NEWSBOT_SHARD_IDS must be below NEWSBOT_SHARD_COUNT ({self.shard_count})")
        return self

    @field_validator("guild_ids", "channels", "admin_role_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise ValueError("expected comma-separated numeric Discord ids, e.g. 123456789012345678,234567890123456789")
        return tuple(int(part) for part in parts)

    @field_validator("discord_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("http://", "https://"))

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("ws://", "wss://"))


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not value.startswith(schemes):
        raise ValueError(f"must start with {' or '.join(schemes)}")
    return value.rstrip("/") if schemes[0].startswith("http") else value
