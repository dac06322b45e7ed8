"""The fake gateway: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE, then dispatches.

Frames are zlib-stream compressed when the client asks for it (discord.py does), as Discord
does; a bad token closes with 4004 and a privileged intent the application lacks with 4014.

Sessions can be resumed as on Discord: when a ready connection ends with a close code other than
a normal close (1000/1001) or a fatal one, the session is kept (``FakeDiscord.detached``), keeps
receiving dispatches into its backlog, and a RESUME with its id and the last sequence number it
saw replays what it missed, then RESUMED. An unknown or invalidated session gets
INVALID_SESSION (``d: false``), and the client identifies again.
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
# Close codes after which Discord does not let a session resume (normal closes and fatal errors).
NOT_RESUMABLE = {1000, 1001, 4004, 4010, 4011, 4012, 4013, 4014}


class Session:
    """One gateway connection."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.seq = 0
        self.intents: int | None = None
        self.session_id = secrets.token_hex(16)
        self.ready = asyncio.Event()
        self.backlog: list[dict] = []  # every dispatch sent (or meant) to this session, for RESUME
        self.resumable = True  # False once the server invalidates it
        self.shard: tuple[int, int] | None = None  # [shard_id, num_shards] from IDENTIFY, if sharded
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
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.backlog.append(payload)
        await self.send(payload)

    def adopt(self, old: Session) -> None:
        """Take over ``old``'s session (a RESUME): its id, sequence, intents and backlog."""
        self.session_id, self.seq, self.intents, self.backlog = old.session_id, old.seq, old.intents, old.backlog
        self.shard = old.shard

    def serves(self, guild_id: int | None) -> bool:
        """Whether this connection gets a guild's events: Discord's shard formula
        ``(guild_id >> 22) % num_shards``; direct messages (no guild) go to shard 0."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

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
        if session.ready.is_set() and session.resumable and ws.close_code not in NOT_RESUMABLE:
            server.detached[session.session_id] = session  # Discord keeps it for a RESUME
        await server.notify()
    return ws


async def _on_op(server: FakeDiscord, session: Session, op: int, data) -> None:
    server.gateway_log.append(("recv", op, {**data, "token": "<hidden>"} if op in (2, 6) else data))
    if op == 1:
        await session.send({"op": 11})
    elif op == 2:
        await _identify(server, session, data)
    elif op == 6:
        await _resume(server, session, data)


async def _resume(server: FakeDiscord, session: Session, data: dict) -> None:
    if data.get("token") != server.token:
        await session.ws.close(code=4004, message=b"Authentication failed.")
        return
    old = server.detached.get(data.get("session_id"))
    if old is None or not old.resumable:
        await session.send({"op": 9, "d": False})  # the client must identify again
        return
    del server.detached[old.session_id]
    session.adopt(old)
    seen = int(data.get("seq") or 0)
    for payload in [p for p in session.backlog if p["s"] > seen]:
        await session.send(payload)
    await session.dispatch("RESUMED", {"_trace": ["fake-gateway"]})
    session.ready.set()
    server.resumes += 1
    await server.notify()


async def _identify(server: FakeDiscord, session: Session, data: dict) -> None:
    if data.get("token") != server.token:
        await session.ws.close(code=4004, message=b"Authentication failed.")
        return
    intents = int(data.get("intents", 0))
    if intents & PRIVILEGED_INTENTS & ~server.privileged_intents:
        await session.ws.close(code=4014, message=b"Disallowed intent(s).")
        return
    session.intents = intents
    shard = data.get("shard")
    if shard is not None:
        shard_id, count = int(shard[0]), int(shard[1])
        if not 0 <= shard_id < count:
            await session.ws.close(code=4010, message=b"Invalid shard.")
            return
        session.shard = (shard_id, count)
    world = server.world
    ours = session.serves(world.guild_id)
    await session.dispatch(
        "READY",
        {
            "v": 10,
            "user": dict(world.bot.payload(), verified=True, mfa_enabled=False, email=None),
            "guilds": [{"id": str(world.guild_id), "unavailable": True}] if ours else [],
            **({"shard": list(session.shard)} if session.shard else {}),
            "session_id": session.session_id,
            "resume_gateway_url": server.gateway_url,
            "session_type": "normal",
            "application": {"id": str(world.app_id), "flags": server.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "_trace": ["fake-gateway"],
        },
    )
    if ours:
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
