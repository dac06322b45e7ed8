"""A small Discord-compatible server for end-to-end tests of the bot with the real discord.py."""

from .server import Call, FakeDiscord, File, Interaction

__all__ = ["Call", "FakeDiscord", "File", "Interaction"]
