"""The fake gateway: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE, then dispatches.

Frames are zlib-stream compressed when the client asks for it (discord.py does), as Discord
does; a bad token closes with 4004 and a privileged intent the application lacks with 4014.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from .payloads import GUILD_MESSAGES, MESSAGE_CONTENT, PRIVILEGED_INTENTS

if TYPE_CHECKING:
    from .server import FakeDiscord

HEARTBEAT_MS = 41_250


class Session:
    """One gateway connection."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.seq = 0
        self.intents: int | None = None
        self.session_id = secrets.token_hex(16)
        self.ready = asyncio.Event()
        self._compressor = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()  # frames of one zlib stream must go out in order

    async def send(self, payload: dict) -> None:
        data = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            if self._compressor is None:
                await self.ws.send_str(data)
            else:
                frame = self._compressor.compress(data.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(frame)

    async def dispatch(self, event: str, data: dict) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})

    def wants(self, intent: int) -> bool:
        return self.intents is not None and bool(self.intents & intent)


async def handle(server: FakeDiscord, request: web.Request) -> web.WebSocketResponse:
    """Serve one gateway websocket until it closes."""
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    session = Session(ws, compress=request.query.get("compress") == "zlib-stream")
    server.sessions.append(session)
    await session.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS, "_trace": ["fake-gateway"]}})
    try:
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            await _on_op(server, session, message.get("op"), message.get("d"))
    finally:
        server.sessions.remove(session)
    return ws


async def _on_op(server: FakeDiscord, session: Session, op: int, data) -> None:
    server.gateway_log.append(("recv", op, data if op != 2 else {**data, "token": "<hidden>"}))
    if op == 1:
        await session.send({"op": 11})
    elif op == 2:
        await _identify(server, session, data)
    elif op == 6:  # RESUME: this fake keeps no sessions, so the client must identify again
        await session.send({"op": 9, "d": False})


async def _identify(server: FakeDiscord, session: Session, data: dict) -> None:
    if data.get("token") != server.token:
        await session.ws.close(code=4004, message=b"Authentication failed.")
        return
    intents = int(data.get("intents", 0))
    if intents & PRIVILEGED_INTENTS & ~server.privileged_intents:
        await session.ws.close(code=4014, message=b"Disallowed intent(s).")
        return
    session.intents = intents
    world = server.world
    await session.dispatch("READY", {
        "v": 10, "user": dict(world.bot.payload(), verified=True, mfa_enabled=False, email=None),
        "guilds": [{"id": str(world.guild_id), "unavailable": True}], "session_id": session.session_id,
        "resume_gateway_url": server.gateway_url, "session_type": "normal",
        "application": {"id": str(world.app_id), "flags": server.application_flags()},
        "private_channels": [], "relationships": [], "presences": [], "user_settings": {},
        "guild_join_requests": [], "geo_ordered_rtc_regions": ["fake"], "_trace": ["fake-gateway"],
    })
    await session.dispatch("GUILD_CREATE", world.guild_create())
    session.ready.set()
    await server.notify()


def visible_to(session: Session, message: dict, bot_id: int) -> dict | None:
    """The MESSAGE_CREATE a session receives: none without GUILD_MESSAGES, and without the
    MESSAGE_CONTENT intent the content is blanked unless the bot wrote or was mentioned in it."""
    if not session.wants(GUILD_MESSAGES):
        return None
    mentioned = any(int(u["id"]) == bot_id for u in message.get("mentions", []))
    if session.wants(MESSAGE_CONTENT) or mentioned or int(message["author"]["id"]) == bot_id:
        return message
    return dict(message, content="", embeds=[], attachments=[], components=[])
