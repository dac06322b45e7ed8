"""The fake's REST handlers: ``handler(server, call, **path_params) -> (status, json)``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .payloads import EPHEMERAL, LOADING, now_iso, snowflake
from .rules import invalid

if TYPE_CHECKING:
    from .server import Call, FakeDiscord, Interaction

UNKNOWN_INTERACTION = 404, {"message": "Unknown interaction", "code": 10062}
UNKNOWN_WEBHOOK = 404, {"message": "Unknown Webhook", "code": 10015}
UNKNOWN_MESSAGE = 404, {"message": "Unknown Message", "code": 10008}
UNKNOWN_CHANNEL = 404, {"message": "Unknown Channel", "code": 10003}
ALREADY_ACKNOWLEDGED = 400, {"message": "Interaction has already been acknowledged.", "code": 40060}


def _expired(ix: Interaction) -> bool:
    """Whether the interaction's token has outlived its 15 minutes (see ``FakeDiscord.expire``)."""
    from .server import TOKEN_LIFETIME

    return time.monotonic() - ix.created > TOKEN_LIFETIME


# -- identity and commands --


async def me(server: FakeDiscord, call: Call):
    return 200, dict(server.world.bot.payload(), verified=True, mfa_enabled=False, email=None, locale="en-US")


async def application(server: FakeDiscord, call: Call):
    from .payloads import application as app_payload

    return 200, app_payload(server.world.app_id, server.world.owner, flags=server.application_flags())


async def gateway_url(server: FakeDiscord, call: Call):
    body = {"url": server.gateway_url}
    if call.path.endswith("/bot"):
        body.update(
            shards=1, session_start_limit={"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        )
    return 200, body


async def put_commands(server: FakeDiscord, call: Call, app: str, guild: str | None = None):
    if int(app) != server.world.app_id:
        return 403, {"message": "Missing Access", "code": 50001}
    if guild is not None and int(guild) != server.world.guild_id:
        return 403, {"message": "Missing Access", "code": 50001}
    scope = int(guild) if guild else None
    old = server.commands.get(scope, {})
    stored = {}
    for command in call.body:
        perms = command.get("default_member_permissions")
        stored[command["name"]] = {
            "type": 1,
            "options": [],
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            "name_localizations": None,
            "description_localizations": None,
            **command,
            "id": old.get(command["name"], {}).get("id") or str(snowflake()),
            "application_id": app,
            "version": str(snowflake()),
            "default_member_permissions": None if perms is None else str(perms),
            **({"guild_id": guild} if guild else {}),
        }
    server.commands[scope] = stored
    return 200, list(stored.values())


async def get_commands(server: FakeDiscord, call: Call, app: str, guild: str | None = None):
    return 200, list(server.commands.get(int(guild) if guild else None, {}).values())


# -- interactions --


async def callback(server: FakeDiscord, call: Call, iid: str, token: str):
    ix = server.interactions.get(token)
    if ix is None or ix.id != int(iid) or time.monotonic() - ix.created > 3.0:
        return UNKNOWN_INTERACTION  # the 3-second window for the initial response is over
    if ix.acked is not None:
        return ALREADY_ACKNOWLEDGED
    kind, data = call.body["type"], call.body.get("data") or {}
    allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[ix.type]
    if kind not in allowed:
        return 400, {"message": f"Interaction response type {kind} is not valid here", "code": 50035}
    if kind == 8:
        return _choices(ix, data)
    if kind == 9:
        return _modal(ix, data)
    status, msg = await _initial_message(server, call, ix, kind, data)
    if status != 200:
        return status, msg
    ix.acked = kind
    body = {
        "interaction": {
            "id": str(ix.id),
            "type": ix.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(msg and msg["flags"] & EPHEMERAL),
        },
        "resource": {"type": kind},
    }
    if msg is not None:
        body["interaction"]["response_message_id"] = msg["id"]
        body["resource"]["message"] = msg
    return 200, body


def _choices(ix: Interaction, data: dict):
    choices = data.get("choices", [])
    if len(choices) > 25 or any(not 1 <= len(c["name"]) <= 100 or len(str(c["value"])) > 100 for c in choices):
        return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"choices": "bad length"}}
    ix.acked, ix.choices = 8, choices
    return 200, {"interaction": {"id": str(ix.id), "type": ix.type}}


def _modal(ix: Interaction, data: dict):
    # Discord: a title of 1-45 characters, a custom_id, 1-5 top-level components.
    title, components = data.get("title") or "", data.get("components") or []
    if not (1 <= len(title) <= 45 and data.get("custom_id") and 1 <= len(components) <= 5):
        return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"data": "bad modal"}}
    ix.acked, ix.modal = 9, data
    return 200, {"interaction": {"id": str(ix.id), "type": ix.type}, "resource": {"type": 9}}


async def _initial_message(server: FakeDiscord, call: Call, ix: Interaction, kind: int, data: dict):
    if kind == 6:
        return 200, None
    if kind == 7:
        msg = server.messages.get(ix.message_id)
        if msg is None:
            return UNKNOWN_MESSAGE
        problem = invalid(data, creating=False)
        if problem:
            return 400, problem
        server.record_pings(call, data, None)
        ix.original = _apply_edit(msg, data)
        return 200, msg
    body = dict(data, flags=int(data.get("flags") or 0) | (LOADING if kind == 5 else 0))
    status, msg = await server.bot_message(
        call, ix.channel.id, body, loading=kind == 5, **_from_interaction(server, ix)
    )
    if status == 200:
        ix.original = msg
    return status, msg


def _from_interaction(server: FakeDiscord, ix: Interaction) -> dict:
    app_id = server.world.app_id
    return {
        "webhook_id": app_id,
        "application_id": app_id,
        "interaction_metadata": {
            "id": str(ix.id),
            "type": ix.type,
            "user": ix.user.payload(),
            "authorizing_integration_owners": {"0": str(server.world.guild_id)},
        },
    }


async def followup(server: FakeDiscord, call: Call, app: str, token: str):
    ix = server.interactions.get(token)
    if ix is None or ix.acked is None or ix.acked == 8 or int(app) != server.world.app_id or _expired(ix):
        return UNKNOWN_WEBHOOK
    if ix.acked == 5 and ix.loading and not ix.followups:
        # Discord: the first follow-up after a deferred response replaces the "thinking…" message.
        return await edit_webhook(server, call, app, token, "@original")
    body = dict(call.body, flags=int(call.body.get("flags") or 0))
    status, msg = await server.bot_message(call, ix.channel.id, body, **_from_interaction(server, ix))
    if status != 200:
        return status, msg
    ix.followups.append(msg)
    return (200, msg) if call.query.get("wait") in ("1", "true", "True") else (204, None)


async def edit_webhook(server: FakeDiscord, call: Call, app: str, token: str, mid: str):
    ix = server.interactions.get(token)
    if ix is None or ix.acked is None or int(app) != server.world.app_id or _expired(ix):
        return UNKNOWN_WEBHOOK
    msg = ix.original if mid == "@original" else next((m for m in ix.followups if m["id"] == mid), None)
    if msg is None:
        return UNKNOWN_MESSAGE
    problem = invalid(call.body, creating=False)
    if problem:
        return 400, problem
    server.record_pings(call, call.body, None)
    return 200, _apply_edit(msg, call.body)


async def get_webhook(server: FakeDiscord, call: Call, app: str, token: str, mid: str):
    ix = server.interactions.get(token)
    if ix is not None and _expired(ix):
        return UNKNOWN_WEBHOOK
    if ix is None or ix.original is None:
        return UNKNOWN_MESSAGE
    return 200, ix.original


def _apply_edit(msg: dict, body: dict) -> dict:
    for key, empty in (("content", ""), ("embeds", []), ("components", [])):
        if key in body:
            msg[key] = body[key] if body[key] is not None else empty
    msg["flags"] &= ~LOADING
    msg["edited_timestamp"] = now_iso()
    return msg


# -- channels --


async def create_message(server: FakeDiscord, call: Call, cid: str):
    channel = server.world.channel(int(cid))
    if channel is None:
        return UNKNOWN_CHANNEL
    body = dict(call.body or {})
    ref = body.pop("message_reference", None)
    extra = {}
    if ref:
        target = server.messages.get(int(ref["message_id"]))
        if target is None and ref.get("fail_if_not_exists", True):
            return 400, {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {
                    "message_reference": {
                        "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                    }
                },
            }
        if target is not None:
            extra = {
                "reference": {
                    "type": 0,
                    "message_id": target["id"],
                    "channel_id": target["channel_id"],
                    "guild_id": str(server.world.guild_id),
                },
                "referenced": target,
            }
    return await server.bot_message(call, channel.id, body, **extra)


async def history(server: FakeDiscord, call: Call, cid: str):
    if server.world.channel(int(cid)) is None:
        return UNKNOWN_CHANNEL
    limit = min(max(int(call.query.get("limit", 50)), 1), 100)
    found = sorted(
        (m for m in server.messages.values() if m["channel_id"] == cid and not m["flags"] & EPHEMERAL),
        key=lambda m: int(m["id"]),
        reverse=True,
    )
    if "before" in call.query:
        found = [m for m in found if int(m["id"]) < int(call.query["before"])]
    if "after" in call.query:
        found = [m for m in found if int(m["id"]) > int(call.query["after"])]
    return 200, found[:limit]


async def get_message(server: FakeDiscord, call: Call, cid: str, mid: str):
    msg = server.messages.get(int(mid))
    if msg is None or msg["channel_id"] != cid or msg["flags"] & EPHEMERAL:
        return UNKNOWN_MESSAGE
    return 200, msg


async def typing(server: FakeDiscord, call: Call, cid: str):
    return (204, None) if server.world.channel(int(cid)) else UNKNOWN_CHANNEL
