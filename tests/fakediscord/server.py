"""A small Discord-compatible server on one 127.0.0.1 port: REST under ``/api/v10``, the
gateway websocket at ``/gateway``. It records every REST call, enforces what Discord enforces
where it matters to a bot (auth, message limits, the 3-second interaction window and the
15-minute life of an interaction token, one initial response per interaction), and lets a test
act as the people in the server.

Faults a test can inject, each as Discord shows them to a bot: ``rate_limit`` (429 with
Discord's headers and body), ``fail`` (500/502/503/504 with Discord's or its edge's bodies),
``drop_gateway`` (the websocket closed under the bot; resumable or not) and ``expire`` (an
interaction whose token is past its 15 minutes)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import gateway, payloads
from .payloads import EPHEMERAL, LOADING, MESSAGE_CONTENT, Channel, User, snowflake
from .rules import invalid, notified
from .world import World

INITIAL_RESPONSE_WINDOW = 3.0
TOKEN_LIFETIME = 15 * 60.0  # an interaction token works for follow-ups and edits this long


@dataclass
class Fault:
    """The next ``times`` requests matching ``method`` and ``pattern`` get ``status``."""

    method: str
    pattern: re.Pattern
    status: int
    times: int = 1
    retry_after: float = 0.0  # 429 only
    is_global: bool = False  # 429 only
    hits: int = 0

    def matches(self, call: Call) -> bool:
        return self.hits < self.times and self.method == call.method and bool(self.pattern.fullmatch(call.path))


@dataclass
class File:
    """A file a user attaches to a slash command option: ``await slash(..., file=File(...))``.
    ``size`` overrides the size Discord reports (by default the length of ``data``)."""

    filename: str
    data: bytes
    content_type: str | None = "text/plain"
    size: int | None = None
    id: int = field(default_factory=snowflake)

    @property
    def url_name(self) -> str:
        # Discord's CDN URL keeps only a sanitised file name.
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.filename) or "file"


@dataclass
class Call:
    """One REST request as the bot made it, and the status it got."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Interaction:
    """An interaction the test started, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    user: User
    channel: Channel
    created: float
    message_id: int | None = None  # the message a component sits on
    dm: bool = False  # invoked in a direct message with the bot
    acked: int | None = None  # the initial callback type
    original: dict | None = None
    followups: list[dict] = field(default_factory=list)
    choices: list[dict] | None = None  # an autocomplete answer
    modal: dict | None = None  # a modal the bot opened in answer

    @property
    def loading(self) -> bool:
        return self.original is not None and bool(self.original["flags"] & LOADING)

    @property
    def messages(self) -> list[dict]:
        return ([self.original] if self.original else []) + self.followups


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    # discord.py parses JSON only when the Content-Type is exactly "application/json".
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> tuple[int, dict]:
    return status, {"message": message, "code": code}


class FakeDiscord:
    """Start with ``await start()``; point discord.py at ``api_base`` and ``gateway_url``."""

    def __init__(self, *, token: str = "fake-token", message_content_intent: bool = True) -> None:
        self.world = World.default()
        self.token = token
        self.privileged_intents = MESSAGE_CONTENT if message_content_intent else 0
        self.calls: list[Call] = []
        self.pings: list[tuple[Call, set[str]]] = []
        self.messages: dict[int, dict] = {}
        self.interactions: dict[str, Interaction] = {}
        self.commands: dict[int | None, dict[str, dict]] = {}
        self.sessions: list[gateway.Session] = []
        self.detached: dict[str, gateway.Session] = {}  # dropped sessions a RESUME can take over
        self.resumes = 0
        self.drops = 0
        self.gateway_log: list[tuple] = []
        self.errors: list[Exception] = []
        self.faults: list[Fault] = []
        self.attachments: dict[int, File] = {}  # files attached to commands, by attachment id
        self.downloads: list[int] = []  # attachment ids the bot downloaded
        self._closing: set[asyncio.Task] = set()
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes = self._route_table()

    # -- lifecycle --

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id}/{name}", self._cdn)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for session in list(self.sessions):
            await session.ws.close()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=15)
        await self._runner.cleanup()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        return await gateway.handle(self, request)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def application_flags(self) -> int:
        # GATEWAY_MESSAGE_CONTENT_LIMITED: the intent is switched on in the portal (unverified app).
        return (1 << 19) if self.privileged_intents & MESSAGE_CONTENT else 0

    # -- waiting --

    async def wait_for(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until ``check()`` is truthy (re-checked after every request and event)."""

        async def until() -> Any:
            async with self._changed:
                while not (result := check()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(until(), timeout)

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def ready(self, timeout: float = 15.0) -> gateway.Session:
        """The first session that has identified and received its server."""
        session = await self.wait_for(lambda: next((s for s in self.sessions if s.ready.is_set()), None), timeout)
        return session

    def rate_limit_once(self, method: str, path_pattern: str, retry_after: float = 0.2) -> None:
        """Answer the next matching request with 429 (as Discord's edge does, with a Via header)."""
        self.rate_limit(method, path_pattern, retry_after)

    def rate_limit(
        self, method: str, path_pattern: str, retry_after: float = 0.2, *, times: int = 1, is_global: bool = False
    ) -> Fault:
        """Answer the next ``times`` matching requests with 429 as Discord does: the JSON body with
        ``retry_after`` (seconds, a float), ``Retry-After`` (whole seconds, rounded up) and the
        ``X-RateLimit-*`` headers of the route's bucket, or of the global limit."""
        fault = Fault(method, re.compile(path_pattern), 429, times, retry_after, is_global)
        self.faults.append(fault)
        return fault

    def fail(self, method: str, path_pattern: str, status: int = 503, *, times: int = 1) -> Fault:
        """Answer the next ``times`` matching requests with a server error: 500 (Discord's JSON),
        502 or 504 (the edge's HTML page) or 503 (the edge's plain-text "upstream" message)."""
        if status not in _SERVER_ERRORS:
            raise ValueError(f"status must be one of {sorted(_SERVER_ERRORS)}")
        fault = Fault(method, re.compile(path_pattern), status, times)
        self.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int = 4000, *, resumable: bool = True) -> int:
        """Close every ready gateway connection under the bot with ``code`` (4000, "unknown error",
        is one Discord lets a client resume after). ``resumable=False`` also forgets the session,
        as Discord does when it expires, so the client's RESUME gets INVALID_SESSION and it must
        identify again. Returns how many connections were closed."""
        dropped = [s for s in self.sessions if s.ready.is_set()]
        for session in dropped:
            # From now on the session only collects events into its backlog, until a RESUME.
            session.ready.clear()
            session.resumable = resumable
            if resumable:
                self.detached[session.session_id] = session
            self.drops += 1
            # Not awaited: the close handshake waits for the client's answer, which a client
            # busy reconnecting may never send; stop() waits for what is left.
            task = asyncio.create_task(session.ws.close(code=code, message=b"Unknown error."))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        await asyncio.sleep(0)  # let the close frames go out
        await self.notify()
        return len(dropped)

    def expire(self, interaction: Interaction) -> None:
        """Make ``interaction`` older than its token's 15 minutes: its initial response gets
        404 Unknown interaction (10062), follow-ups and edits 404 Unknown Webhook (10015)."""
        interaction.created -= TOKEN_LIFETIME + 1

    # -- acting as people in the server --

    async def slash(self, user: User, name: str, channel: Channel | None = None, **options: Any) -> Interaction:
        """``user`` runs /name with ``options`` (an APPLICATION_COMMAND interaction)."""
        return await self._command_interaction(2, user, name, channel, options, focused=None)

    async def autocomplete(self, user: User, name: str, focused: str, **options: Any) -> list[dict]:
        """``user`` is typing option ``focused`` of /name; returns the choices the bot offers."""
        ix = await self._command_interaction(4, user, name, None, options, focused=focused)
        await self.wait_for(lambda: ix.choices is not None, timeout=INITIAL_RESPONSE_WINDOW)
        return ix.choices

    async def slash_dm(self, user: User, name: str, **options: Any) -> Interaction:
        """``user`` runs /name in a direct message with the bot. Delivered whatever the command's
        contexts say, as if Discord had let it through: the bot must refuse what is server-only."""
        return await self._command_interaction(2, user, name, None, options, focused=None, dm=True)

    async def click(self, user: User, message: dict, custom_id: str) -> Interaction:
        """``user`` presses the button ``custom_id`` under ``message``."""
        channel = self.world.channel(int(message["channel_id"]))
        data = {"custom_id": custom_id, "component_type": 2}
        ix = self._new_interaction(3, user, channel, message_id=int(message["id"]))
        await self._dispatch("INTERACTION_CREATE", self._interaction_payload(ix, data, message=message))
        return ix

    async def submit_modal(self, opened: Interaction, values: dict[str, str]) -> Interaction:
        """The user of ``opened`` fills in the modal the bot opened in answer to it and submits it
        (a MODAL_SUBMIT interaction carrying each text input's ``custom_id`` and value)."""
        if opened.modal is None:
            raise LookupError("the bot opened no modal for that interaction")
        data = {
            "custom_id": opened.modal["custom_id"],
            "components": [_filled(c, values) for c in opened.modal["components"]],
        }
        message = self.messages.get(opened.message_id) if opened.message_id else None
        ix = self._new_interaction(5, opened.user, opened.channel, message_id=opened.message_id)
        await self._dispatch("INTERACTION_CREATE", self._interaction_payload(ix, data, message=message))
        return ix

    async def post(
        self, user: User, channel: Channel, content: str, *, reply_to: dict | None = None, ping_reply: bool = False
    ) -> dict:
        """``user`` writes ``content`` in ``channel`` (optionally as a reply)."""
        reference = referenced = None
        if reply_to is not None:
            reference = {
                "type": 0,
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                "guild_id": str(self.world.guild_id),
            }
            referenced = self.messages[int(reply_to["id"])]
        msg = payloads.message(
            id=snowflake(),
            channel_id=channel.id,
            author=user,
            content=content,
            reference=reference,
            referenced=referenced,
            users=self.world.people(),
        )
        if ping_reply and referenced is not None:
            msg["mentions"].append(referenced["author"])
        self.messages[int(msg["id"])] = msg
        await self._dispatch_message(msg, user)
        return msg

    def replies_to(self, message: dict) -> list[dict]:
        """The bot's messages that reply to ``message``, oldest first."""
        return [
            m
            for m in self.messages.values()
            if int(m["author"]["id"]) == self.world.bot.id
            and (m.get("message_reference") or {}).get("message_id") == message["id"]
        ]

    def requests(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    # -- gateway dispatch --

    def _listening(self) -> list[gateway.Session]:
        # Connected sessions, and dropped ones that may still resume (their events wait in the backlog).
        return [s for s in self.sessions if s.ready.is_set()] + list(self.detached.values())

    async def _dispatch(self, event: str, data: dict) -> None:
        guild = int(data["guild_id"]) if data.get("guild_id") else None
        for session in self._listening():
            if session.serves(guild):  # only the shard that has the guild (DMs: shard 0)
                await session.dispatch(event, data)
        await self.notify()

    async def _dispatch_message(self, msg: dict, author: User) -> None:
        event = payloads.for_gateway(msg, self.world.guild_id, author, self.world.people())
        for session in self._listening():
            if not session.serves(self.world.guild_id):
                continue
            visible = gateway.visible_to(session, event, self.world.bot.id)
            if visible is not None:
                await session.dispatch("MESSAGE_CREATE", visible)
        await self.notify()

    def _new_interaction(
        self, type: int, user: User, channel: Channel, message_id: int | None = None, dm: bool = False
    ) -> Interaction:
        ix = Interaction(
            snowflake(),
            "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type,
            user,
            channel,
            time.monotonic(),
            message_id=message_id,
            dm=dm,
        )
        self.interactions[ix.token] = ix
        return ix

    def _interaction_payload(self, ix: Interaction, data: dict, message: dict | None = None) -> dict:
        w = self.world
        if ix.dm:
            return payloads.dm_interaction(
                id=ix.id,
                app_id=w.app_id,
                type=ix.type,
                token=ix.token,
                channel_id=ix.channel.id,
                user=ix.user,
                app_permissions=w.permissions(w.bot),
                data=data,
            )
        return payloads.interaction(
            id=ix.id,
            app_id=w.app_id,
            type=ix.type,
            token=ix.token,
            guild_id=w.guild_id,
            channel=ix.channel,
            user=ix.user,
            permissions=w.permissions(ix.user),
            app_permissions=w.permissions(w.bot),
            data=data,
            message=message,
        )

    async def _command_interaction(
        self,
        type: int,
        user: User,
        name: str,
        channel: Channel | None,
        options: dict,
        focused: str | None,
        dm: bool = False,
    ) -> Interaction:
        command, guild_id = self._registered(name)
        data = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": [
                dict(_option(key, value), **({"focused": True} if key == focused else {}))
                for key, value in options.items()
            ],
        }
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        files = {key: value for key, value in options.items() if isinstance(value, File)}
        if files:  # attachment options carry an id; the attachments themselves are "resolved"
            data["resolved"] = {"attachments": {str(f.id): self._attach(f) for f in files.values()}}
        if dm:
            channel = Channel(snowflake(), "", 0, type=1)  # the DM channel; not part of the server
        ix = self._new_interaction(type, user, channel or self.world.channels["general"], dm=dm)
        await self._dispatch("INTERACTION_CREATE", self._interaction_payload(ix, data))
        return ix

    def _attach(self, file: File) -> dict:
        """An attachment object for ``file``, served from this server like Discord's CDN."""
        self.attachments[file.id] = file
        url = f"http://127.0.0.1:{self.port}/attachments/{file.id}/{file.url_name}"
        return {
            "id": str(file.id),
            "filename": file.filename,
            "size": len(file.data) if file.size is None else file.size,
            "url": url,
            "proxy_url": url,
            "content_type": file.content_type,
            "ephemeral": True,
        }

    async def _cdn(self, request: web.Request) -> web.Response:
        file = self.attachments.get(int(request.match_info["id"]))
        if file is None:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(file.id)
        return web.Response(body=file.data, content_type=file.content_type or "application/octet-stream")

    def _registered(self, name: str) -> tuple[dict, int | None]:
        guild = self.commands.get(self.world.guild_id, {})
        if name in guild:
            return guild[name], self.world.guild_id
        if name in self.commands.get(None, {}):
            return self.commands[None][name], None
        raise LookupError(f"/{name} was never registered with PUT .../commands")

    # -- REST --

    def _route_table(self) -> list[tuple[str, re.Pattern, Callable, bool]]:
        from . import rest  # the handlers live in their own module

        table = [
            ("GET", r"/users/@me", rest.me, True),
            ("GET", r"/oauth2/applications/@me", rest.application, True),
            ("GET", r"/gateway(?:/bot)?", rest.gateway_url, False),
            ("PUT", r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands", rest.put_commands, True),
            ("GET", r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands", rest.get_commands, True),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", rest.callback, False),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", rest.followup, False),
            (
                "PATCH",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                rest.edit_webhook,
                False,
            ),
            (
                "GET",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                rest.get_webhook,
                False,
            ),
            ("POST", r"/channels/(?P<cid>\d+)/messages", rest.create_message, True),
            ("GET", r"/channels/(?P<cid>\d+)/messages", rest.history, True),
            ("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", rest.get_message, True),
            ("POST", r"/channels/(?P<cid>\d+)/typing", rest.typing, True),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in table]

    async def _rest(self, request: web.Request) -> web.Response:
        call = Call(request.method, "/" + request.match_info["tail"], dict(request.query), await _body(request))
        self.calls.append(call)
        try:
            response = await self._route(request, call)
        finally:
            await self.notify()
        call.status = response.status
        return response

    async def _route(self, request: web.Request, call: Call) -> web.Response:
        fault = next((f for f in self.faults if f.matches(call)), None)
        if fault is not None:
            fault.hits += 1
            return _fault_response(fault)
        for method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(call.path)
            if match is None or method != call.method:
                continue
            if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            try:
                status, payload = await handler(self, call, **match.groupdict())
            except Exception as exc:  # a bug in the fake: fail the test, not just the request
                self.errors.append(exc)
                raise
            return web.Response(status=204) if status == 204 else _json(payload, status)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    # -- used by the REST handlers --

    def record_pings(self, call: Call, body: dict, replied_user_id: int | None) -> None:
        role_ids = {r.id for r in self.world.roles.values()}
        who = notified(body, replied_user_id=replied_user_id, role_ids=role_ids)
        if who:
            self.pings.append((call, who))

    async def bot_message(
        self, call: Call, channel_id: int, body: dict, *, loading: bool = False, **extra: Any
    ) -> tuple[int, dict]:
        """Create a message by the bot from a create payload (``loading``: the empty "thinking…"
        message of a deferred interaction); dispatch it unless ephemeral."""
        problem = invalid(body, creating=not loading)
        if problem:
            return 400, problem
        reference, referenced = extra.pop("reference", None), extra.pop("referenced", None)
        msg = payloads.message(
            id=snowflake(),
            channel_id=channel_id,
            author=self.world.bot,
            content=body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
            flags=int(body.get("flags") or 0),
            reference=reference,
            referenced=referenced,
            users=self.world.people(),
            **extra,
        )
        replied = int(referenced["author"]["id"]) if referenced else None
        self.record_pings(call, body, replied if reference else None)
        self.messages[int(msg["id"])] = msg
        if not msg["flags"] & EPHEMERAL and self.world.channel(channel_id) is not None:  # not in a DM
            await self._dispatch_message(msg, self.world.bot)
        return 200, msg


_EDGE_PAGE = (
    "<html><head><title>{0}</title></head>"
    "<body><center><h1>{0}</h1></center><hr><center>cloudflare</center></body></html>"
)
_SERVER_ERRORS = {
    500: ("application/json", json.dumps({"message": "500: Internal Server Error", "code": 0})),
    502: ("text/html", _EDGE_PAGE.format("502 Bad Gateway")),
    503: ("text/plain", "upstream connect error or disconnect/reset before headers. reset reason: overflow"),
    504: ("text/html", _EDGE_PAGE.format("504 Gateway Time-out")),
}


def _fault_response(fault: Fault) -> web.Response:
    if fault.status != 429:
        content_type, body = _SERVER_ERRORS[fault.status]
        return web.Response(status=fault.status, text=body, content_type=content_type, headers={"Via": "1.1 google"})
    body = {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": fault.is_global}
    headers = {"Via": "1.1 google", "Retry-After": str(max(1, math.ceil(fault.retry_after)))}
    if fault.is_global:
        headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
    else:
        bucket = hashlib.sha1(f"{fault.method} {fault.pattern.pattern}".encode()).hexdigest()[:32]
        headers.update(
            {
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": "user",
            }
        )
    return _json(body, 429, headers)


def _filled(component: dict, values: dict[str, str]) -> dict:
    """A modal's component as Discord sends it back on submit: text inputs with their values."""
    if component.get("type") == 4:  # a text input
        return {
            "type": 4,
            "id": component.get("id", 0),
            "custom_id": component["custom_id"],
            "value": values.get(component["custom_id"], ""),
        }
    if "component" in component:  # a label around one component
        return {
            "type": component["type"],
            "id": component.get("id", 0),
            "component": _filled(component["component"], values),
        }
    return {
        "type": component["type"],
        "id": component.get("id", 0),
        "components": [_filled(c, values) for c in component.get("components") or []],
    }


def _option(name: str, value: Any) -> dict:
    if isinstance(value, File):
        return {"name": name, "type": 11, "value": str(value.id)}
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
    return {"name": name, "type": kind, "value": value}


async def _body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type == "application/json":
        return await request.json()
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return json.loads(form["payload_json"]) if "payload_json" in form else dict(form)
    return await request.text()
