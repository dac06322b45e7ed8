"""The one place where errors become what a Discord user sees.

An engine error (``NewsbotError``) is shown as its own message, which is written for users, but
never with a server path in it. Anything else is a bug or an outage: the user gets a short
apology and the log gets the traceback. An interaction that expired before the bot could
answer (its token lasts 15 minutes) is only logged: nothing can reach its user any more. Either
way the bot keeps running.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands

from embeddings.errors import CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError, NewsbotError

from .limits import clip
from .replies import no_pings
from .send import deliver, tell

log = logging.getLogger("newsbot.discord")

GENERIC = "Sorry, something went wrong on my side. It has been logged; please try again in a moment."
STALE_COMMAND = "That command has just changed; Discord needs a moment to catch up. Please try again shortly."

# These engine messages name folders and files on the server, which are no business of users.
_SERVER_SIDE = {
    IndexMissingError: "There is no index yet. An admin can build it with /reload.",
    CorpusError: "The articles folder cannot be read right now; the details are in the bot's log.",
    IndexCorruptError: "The index is damaged and needs `newsbot index --rebuild` on the server; "
    "the details are in the bot's log.",
    IndexMismatchError: "The index was built with other settings and needs `newsbot index --rebuild` "
    "on the server; the details are in the bot's log.",
}
# Discord's codes for an interaction that can no longer be answered: its initial-response
# window (3 s) or its token (15 min) is over.
UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK = 10062, 10015
_PATH = re.compile(r"(?<![\w:/])(?:/[^\s/'\"]+){2,}/?|\b[A-Za-z]:\\\S+")


def user_message(error: BaseException, where: str) -> str:
    """What to tell the user about ``error``, which happened in ``where`` (a command name or
    "channel question"). Logs it: a NewsbotError briefly, anything else with its traceback."""
    error = _unwrap(error)
    if isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
        log.warning("%s: %s (commands out of sync with Discord)", where, error)
        return STALE_COMMAND
    if isinstance(error, NewsbotError):
        log.info("%s: %s", where, error)
        return safe_message(error)
    log.error("%s failed", where, exc_info=error)
    return GENERIC


def safe_message(error: NewsbotError) -> str:
    """``error``'s message with server paths kept out."""
    for kind, message in _SERVER_SIDE.items():
        if isinstance(error, kind):
            return message
    return clip(_PATH.sub("…", str(error)), 1800) or GENERIC


def expired(error: BaseException) -> bool:
    """Whether ``error`` says the interaction can no longer be answered."""
    error = _unwrap(error)
    return isinstance(error, discord.NotFound) and error.code in (UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK)


def _unwrap(error: BaseException) -> BaseException:
    # discord.py wraps what a command raised; the user should hear about the cause.
    while isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return error


async def report_to_interaction(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user of ``interaction`` that it failed (ephemeral, or in place of "thinking…")."""
    name = f"/{interaction.command.qualified_name}" if interaction.command else "interaction"
    if expired(error):
        log.warning(
            "%s by %s (%s): the interaction expired before the bot could answer it (%s)",
            name,
            interaction.user,
            interaction.user.id,
            _unwrap(error),
        )
        return
    text = user_message(error, name)
    try:
        await tell(interaction, text)
    except Exception:  # Discord unreachable, or the interaction gone meanwhile: the log must do
        log.warning("%s: could not deliver the error message", name, exc_info=True)


async def report_to_message(message: discord.Message, error: BaseException) -> None:
    """Reply to a channel question that failed."""
    text = user_message(error, "channel question")
    try:
        await deliver(
            "replying",
            message.channel.send,
            text,
            reference=message.to_reference(fail_if_not_exists=False),
            mention_author=False,
            allowed_mentions=no_pings(),
        )
    except Exception:  # Discord unreachable, or the channel gone meanwhile: the log must do
        log.warning("channel question: could not deliver the error message", exc_info=True)
