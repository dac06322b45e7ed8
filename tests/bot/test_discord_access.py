"""Who may run the admin command /reload: checked by the bot on every call, in servers only.

Discord hides /reload from members without Manage Server (``default_member_permissions``), but
a server admin can change that in the server's settings, and a forged or misrouted interaction
may arrive anyway. The fake server delivers every interaction the test sends, whatever the
command's registration says, so these tests see what the bot itself lets through.
"""

from __future__ import annotations

from bot.guards import NOT_ADMIN, SERVER_ONLY

from ..fakediscord.payloads import EPHEMERAL, MANAGE_GUILD
from .conftest import Discord, play

FINISHED = "**Reload finished**"


async def run_reload(d: Discord, user, *, dm: bool = False):
    ix = await (d.server.slash_dm(user, "reload") if dm else d.server.slash(user, "reload"))
    # Done when refused, or when the progress ("Reloading: …") has given way to the report.
    await d.server.wait_for(
        lambda: ix.original and not ix.loading and not ix.original["content"].startswith("Reloading"), timeout=60
    )
    return ix


def assert_refused(ix, text: str) -> None:
    """A clear, private refusal sent as the immediate response (nothing was deferred or run)."""
    assert ix.acked == 4, "refused at once, not after a deferred start"
    assert ix.original["flags"] & EPHEMERAL
    assert ix.original["content"] == text and not ix.original["embeds"] and not ix.followups


def test_a_member_without_manage_server_cannot_reload_even_when_the_interaction_arrives(news_engine):
    async def scenario(d: Discord) -> None:
        registered = d.server.commands[d.server.world.guild_id]["reload"]
        assert registered["default_member_permissions"] == str(MANAGE_GUILD)  # Discord's own gate
        for user in (d.alice, d.dave):  # neither has Manage Server, Administrator nor an admin role
            assert_refused(await run_reload(d, user), NOT_ADMIN)
        assert d.state.reloads.last is None and d.state.reloads.running_by is None

    before = news_engine.status().generation
    server = play(news_engine, scenario)
    assert news_engine.status().generation == before
    assert not server.requests("PATCH", r"/webhooks/.*")  # no progress, no report


def test_a_reload_from_a_direct_message_is_refused_even_for_a_server_admin(news_engine):
    async def scenario(d: Discord) -> None:
        # The owner has every permission in the server, bob has Manage Server: not in a DM.
        for user in (d.server.world.owner, d.bob):
            assert_refused(await run_reload(d, user, dm=True), SERVER_ONLY)
        assert d.state.reloads.last is None

    play(news_engine, scenario)


def test_the_registration_keeps_reload_out_of_direct_messages(news_engine):
    async def scenario(d: Discord) -> None:
        registered = d.server.commands[None]["reload"]  # global registration (no NEWSBOT_GUILD_IDS)
        assert registered["dm_permission"] is False and registered["contexts"] in (None, [0])
        assert registered["default_member_permissions"] == str(MANAGE_GUILD)
        assert_refused(await run_reload(d, d.carol, dm=True), SERVER_ONLY)

    play(news_engine, scenario, guild_ids="")


def test_a_configured_admin_role_may_reload(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await run_reload(d, d.carol)  # carol's only extra role is in NEWSBOT_ADMIN_ROLE_IDS
        assert ix.original["flags"] & EPHEMERAL and ix.original["content"].startswith(FINISHED)
        assert d.state.reloads.last is not None and d.state.reloads.last.by == "Carol"

    play(news_engine, scenario)


def test_without_the_role_setting_the_same_member_is_refused(news_engine):
    async def scenario(d: Discord) -> None:
        assert_refused(await run_reload(d, d.carol), NOT_ADMIN)

    play(news_engine, scenario, admin_role_ids="")


def test_manage_server_and_administrator_may_reload(news_engine):
    async def scenario(d: Discord) -> None:
        for user in (d.bob, d.server.world.owner):  # Manage Server by role; the owner (Administrator)
            ix = await run_reload(d, user)
            assert ix.original["content"].startswith(FINISHED)

    play(news_engine, scenario)
