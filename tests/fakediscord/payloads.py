"""Discord API v10 objects, shaped like Discord's own (field for field where discord.py reads
them), built from the fake server's little world."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Gateway intents
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

_counter = itertools.count(1)


def snowflake() -> int:
    """A fresh, time-ordered Discord id."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class User:
    id: int
    name: str
    bot: bool = False
    roles: list[int] = field(default_factory=list)

    def payload(self) -> dict:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0" if not self.bot else "0001",
            "global_name": None if self.bot else self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    def member(self, *, with_user: bool = True, permissions: int | None = None) -> dict:
        data = {
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int = 0
    managed: bool = False
    bot_id: int | None = None
    position: int = 1

    def payload(self) -> dict:
        data = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": True,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Channel:
    id: int
    name: str
    guild_id: int
    type: int = 0  # 0 text, 11 public thread
    parent_id: int | None = None
    owner_id: int | None = None
    position: int = 0

    def payload(self) -> dict:
        data = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.type == 11:
            del data["permission_overwrites"], data["position"], data["topic"]
            data.update(
                {
                    "owner_id": str(self.owner_id),
                    "message_count": 0,
                    "member_count": 1,
                    "total_message_sent": 0,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": now_iso(),
                        "locked": False,
                        "create_timestamp": now_iso(),
                    },
                }
            )
        return data


def guild_create(
    guild_id: int, name: str, owner_id: int, roles: list[Role], channels: list[Channel], members: list[User]
) -> dict:
    """A GUILD_CREATE payload: the guild object plus the extra gateway fields."""
    text = [c.payload() for c in channels if c.type != 11]
    threads = [c.payload() for c in channels if c.type == 11]
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": [r.payload() for r in roles],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": text[0]["id"] if text else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "max_video_channel_users": 25,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": False,
        "safety_alerts_channel_id": None,
        "incidents_data": None,
        # GUILD_CREATE extras
        "joined_at": "2024-01-01T00:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": [m.member() for m in members],
        "channels": text,
        "threads": threads,
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": True,
    }


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def mentioned_ids(content: str) -> tuple[list[int], list[int], bool]:
    """User ids, role ids and @everyone/@here written in ``content``."""
    users = [int(m) for m in _USER_MENTION.findall(content)]
    roles = [int(m) for m in _ROLE_MENTION.findall(content)]
    return users, roles, "@everyone" in content or "@here" in content


def message(
    *,
    id: int,
    channel_id: int,
    author: User,
    content: str = "",
    embeds: list | None = None,
    components: list | None = None,
    flags: int = 0,
    reference: dict | None = None,
    referenced: dict | None = None,
    users: dict[int, User] | None = None,
    mention_roles: list[int] | None = None,
    webhook_id: int | None = None,
    interaction_metadata: dict | None = None,
    application_id: int | None = None,
) -> dict:
    """A message object as the REST API returns it (no guild_id or member: see ``for_gateway``)."""
    user_ids, role_ids, everyone = mentioned_ids(content)
    known = users or {}
    data = {
        "id": str(id),
        "channel_id": str(channel_id),
        "author": author.payload(),
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": everyone,
        "mentions": [known[u].payload() for u in dict.fromkeys(user_ids) if u in known],
        "mention_roles": [str(r) for r in (mention_roles if mention_roles is not None else role_ids)],
        "attachments": [],
        "embeds": embeds or [],
        "pinned": False,
        "type": 19 if reference else 0,
        "flags": flags,
        "components": components or [],
    }
    if reference:
        data["message_reference"] = reference
        data["referenced_message"] = referenced
    if webhook_id:
        data["webhook_id"] = str(webhook_id)
    if application_id:
        data["application_id"] = str(application_id)
    if interaction_metadata:
        data["interaction_metadata"] = interaction_metadata
    return data


def for_gateway(msg: dict, guild_id: int, author: User, users: dict[int, User]) -> dict:
    """A MESSAGE_CREATE payload: the message plus guild_id, the author's member, and members
    on the mentioned users."""
    data = dict(msg, guild_id=str(guild_id), member=author.member(with_user=False))
    data["mentions"] = [
        dict(u, member=users[int(u["id"])].member(with_user=False)) for u in msg["mentions"] if int(u["id"]) in users
    ]
    return data


def application(app_id: int, owner: User, *, flags: int) -> dict:
    return {
        "id": str(app_id),
        "name": "newsbot",
        "icon": None,
        "description": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": owner.payload(),
        "summary": "",
        "verify_key": "0" * 64,
        "team": None,
        "flags": flags,
        "rpc_origins": [],
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "approximate_guild_count": 1,
        "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
        "integration_types_config": {"0": {}},
        "custom_install_url": None,
        "cover_image": None,
        "primary_sku_id": None,
        "slug": None,
        "guild_id": None,
    }


def interaction(
    *,
    id: int,
    app_id: int,
    type: int,
    token: str,
    guild_id: int,
    channel: Channel,
    user: User,
    permissions: int,
    app_permissions: int,
    data: dict,
    message: dict | None = None,
) -> dict:
    """An INTERACTION_CREATE payload for a server (guild) interaction."""
    payload = {
        "id": str(id),
        "application_id": str(app_id),
        "type": type,
        "data": data,
        "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
        "guild_id": str(guild_id),
        "channel": dict(channel.payload(), permissions=str(permissions)),
        "channel_id": str(channel.id),
        "member": user.member(permissions=permissions),
        "token": token,
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild_id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = message
    return payload


def dm_channel(channel_id: int, recipient: User) -> dict:
    """The bot's direct-message channel with ``recipient``, as an interaction carries it."""
    return {"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0, "recipients": [recipient.payload()]}


def dm_interaction(
    *, id: int, app_id: int, type: int, token: str, channel_id: int, user: User, app_permissions: int, data: dict
) -> dict:
    """An INTERACTION_CREATE payload from a direct message with the bot: no guild, no member,
    the invoking ``user`` at the top level, context 1 (BOT_DM)."""
    return {
        "id": str(id),
        "application_id": str(app_id),
        "type": type,
        "data": data,
        "channel": dm_channel(channel_id, user),
        "channel_id": str(channel_id),
        "user": user.payload(),
        "token": token,
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": "0"},
        "context": 1,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
