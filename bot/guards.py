"""Who may do what, and how often: the admin check for /reload (and any other admin command)
and per-user cooldowns, with what users are told when refused."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection

import discord

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


class Cooldown:
    """At most ``rate`` uses per ``per`` seconds for each user (a sliding window).

    ``rate == 0`` disables the limit. Only the event loop calls this, so there is no lock.
    """

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._uses: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def try_use(self, user_id: int) -> float:
        """Record a use and return 0.0, or return the seconds to wait when over the limit."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        uses = self._uses.setdefault(user_id, deque())
        while uses and now - uses[0] >= self.per:
            uses.popleft()
        if len(uses) >= self.rate:
            return max(0.1, self.per - (now - uses[0]))
        uses.append(now)
        self._forget_idle(now)
        return 0.0

    def should_warn(self, user_id: int) -> bool:
        """Whether to tell this user to slow down now: once per window, so that a user who
        keeps posting does not get a reply to every message."""
        now = self._clock()
        if now - self._warned.get(user_id, -self.per) < self.per:
            return False
        self._warned[user_id] = now
        return True

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded on a big server: drop users whose window has passed.
        if len(self._uses) < 1024:
            return
        for user_id in [u for u, q in self._uses.items() if not q or now - q[-1] >= self.per]:
            del self._uses[user_id]
            self._warned.pop(user_id, None)
