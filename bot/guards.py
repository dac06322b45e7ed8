"""Who may do what, and how often: the admin check for /reload (and any other admin command)
and per-user cooldowns, with what users are told when refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Protocol

import discord
from discord.ext import commands

NOT_ADMIN = "Only server admins can reload the articles (Manage Server, Administrator or an admin role)."
SERVER_ONLY = "This command works only in a server, for its admins; it cannot be used in a direct message."


def slow_down(wait: float) -> str:
    """What a user over the cooldown is told: how many seconds until they may ask again."""
    return f"Slow down a little, please: you can ask again in {max(1, round(wait))} s."


def admin_refusal(interaction: discord.Interaction, admin_role_ids: Collection[int]) -> str | None:
    """Why ``interaction``'s user may not run an admin command (a text to show them), or None
    when they may. Outside a server (a DM, a group DM) nobody may: there is nothing to administer
    and no server permissions to check."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return SERVER_ONLY
    if not is_admin(interaction.user, interaction.permissions, admin_role_ids):
        return NOT_ADMIN
    return None


def is_admin(user: discord.abc.User, permissions: discord.Permissions | None, admin_role_ids: Collection[int]) -> bool:
    """Whether ``user`` may run admin commands: Manage Server or Administrator (in the
    interaction's resolved ``permissions`` or from their roles), or one of ``admin_role_ids``.

    Checked by the bot itself on every call, because Discord's default command permissions can
    be changed by any server admin and say nothing about roles configured here.
    """
    if not isinstance(user, discord.Member):
        return False  # outside a server there is nothing to administer
    granted = [user.guild_permissions]
    if permissions is not None:
        granted.append(permissions)
    if any(p.administrator or p.manage_guild for p in granted):
        return True
    return any(role.id in admin_role_ids for role in user.roles)


class RateLimit(Protocol):
    """How often each user may ask: what the commands and the channel questions check."""

    def try_use(self, user_id: int, cost: float = 1.0) -> float:
        """Take ``cost`` and return 0.0, or return the seconds to wait when over the limit."""
        ...

    def should_warn(self, user_id: int) -> bool:
        """Whether to tell this user to slow down now (not on every refused message)."""
        ...


class TokenBucket(commands.Cooldown):
    """discord.py's per-bucket ``Cooldown`` as a token bucket: it holds up to ``rate`` tokens and
    gains ``rate`` every ``per`` seconds, one at a time, so a burst is allowed and a steady pace
    never waits; ``tokens`` may be fractional (a cheaper follow-up). discord.py's own
    ``Cooldown`` refills all at once when a window ends, which lets a flood through every window
    and makes a person who paused wait for the whole window."""

    def __init__(self, rate: float, per: float) -> None:
        super().__init__(rate, per)
        self._tokens = float(rate)
        self.warned_at: float | None = None

    def get_tokens(self, current: float | None = None) -> float:  # type: ignore[override]
        now = time.monotonic() if current is None else current
        return min(self.rate, self._tokens + max(0.0, now - self._last) * self.rate / self.per)

    def get_retry_after(self, current: float | None = None, tokens: float = 1.0) -> float:
        missing = tokens - self.get_tokens(current)
        return max(0.0, missing * self.per / self.rate)

    def update_rate_limit(self, current: float | None = None, *, tokens: float = 1.0) -> float | None:  # type: ignore[override]
        now = time.monotonic() if current is None else current
        available = self.get_tokens(now)
        if available < tokens:
            return max(0.1, (tokens - available) * self.per / self.rate)
        self._tokens, self._last = available - tokens, now
        return None

    def touch(self, now: float) -> None:
        """Bring the count up to ``now`` (nothing taken), so the mapping keeps this bucket."""
        self._tokens, self._last = self.get_tokens(now), now

    def copy(self) -> TokenBucket:
        return TokenBucket(self.rate, self.per)


class Cooldown:
    """A token bucket per user, kept by discord.py's ``CooldownMapping`` (which also forgets
    idle users): a burst of ``rate`` questions, then one more every ``per / rate`` seconds.
    ``rate == 0`` disables the limit. Only the event loop calls this, so there is no lock.
    """

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._buckets = commands.CooldownMapping(TokenBucket(rate, per) if rate > 0 else None, _by_user_id)

    def try_use(self, user_id: int, cost: float = 1.0) -> float:
        """Take ``cost`` tokens and return 0.0, or return the seconds to wait when too few are left."""
        if self.rate <= 0:
            return 0.0
        return self._buckets.update_rate_limit(user_id, self._clock(), tokens=cost) or 0.0

    def level(self, user_id: int) -> float:
        """The tokens ``user_id`` has now (``rate`` for someone not seen lately)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        return float(self._buckets.get_bucket(user_id, now).get_tokens(now))

    def should_warn(self, user_id: int) -> bool:
        """Whether to tell this user to slow down now: once per ``per`` seconds, so that a user
        who keeps posting does not get a reply to every message."""
        if self.rate <= 0:
            return False
        now = self._clock()
        bucket = self._buckets.get_bucket(user_id, now)
        if bucket.warned_at is not None and now - bucket.warned_at < self.per:
            return False
        bucket.touch(now)  # kept by the mapping for ``per`` seconds from now, with its warning
        bucket.warned_at = now
        return True


def _by_user_id(user_id: int) -> int:
    return user_id
