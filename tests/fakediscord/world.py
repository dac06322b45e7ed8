"""The fake Discord's little world: one application and its bot, one server with roles,
channels and a thread, and a few people."""

from __future__ import annotations

from dataclasses import dataclass

from .payloads import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EMBED_LINKS,
    EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Role,
    User,
    guild_create,
    snowflake,
)


@dataclass
class World:
    app_id: int
    bot: User
    owner: User
    guild_id: int
    roles: dict[str, Role]
    channels: dict[str, Channel]
    users: dict[str, User]

    @classmethod
    def default(cls) -> World:
        app_id, guild_id = snowflake(), snowflake()
        roles = {
            "everyone": Role(guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0),
            "moderators": Role(snowflake(), "Moderators", MANAGE_GUILD | EVERYONE_PERMISSIONS, position=3),
            "news-admins": Role(snowflake(), "News admins", EVERYONE_PERMISSIONS, position=2),
            "newsbot": Role(
                snowflake(),
                "newsbot",
                VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY,
                managed=True,
                bot_id=app_id,
                position=1,
            ),
        }
        bot = User(app_id, "newsbot", bot=True, roles=[roles["newsbot"].id])
        owner = User(snowflake(), "owner")
        users = {
            "alice": User(snowflake(), "alice"),
            "bob": User(snowflake(), "bob", roles=[roles["moderators"].id]),
            "carol": User(snowflake(), "carol", roles=[roles["news-admins"].id]),
            "dave": User(snowflake(), "dave"),
            "otherbot": User(snowflake(), "otherbot", bot=True),
        }
        general = Channel(snowflake(), "general", guild_id, position=0)
        channels = {
            "general": general,
            "newsdesk": Channel(snowflake(), "newsdesk", guild_id, position=1),
            "thread": Channel(
                snowflake(), "sco-questions", guild_id, type=11, parent_id=general.id, owner_id=users["alice"].id
            ),
        }
        return cls(app_id, bot, owner, guild_id, roles, channels, users)

    def people(self) -> dict[int, User]:
        """Everyone in the server by id, the bot included."""
        everyone = [self.bot, self.owner, *self.users.values()]
        return {u.id: u for u in everyone}

    def channel(self, channel_id: int) -> Channel | None:
        return next((c for c in self.channels.values() if c.id == channel_id), None)

    def permissions(self, user: User) -> int:
        """The user's server permissions, as Discord computes them (no channel overwrites here)."""
        if user.id == self.owner.id:
            return ALL_PERMISSIONS
        value = self.roles["everyone"].permissions
        for role in self.roles.values():
            if role.id in user.roles:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def guild_create(self) -> dict:
        return guild_create(
            self.guild_id,
            "Newsroom",
            self.owner.id,
            list(self.roles.values()),
            list(self.channels.values()),
            list(self.people().values()),
        )
