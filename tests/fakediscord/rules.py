"""What Discord enforces on a message body, and whom a message would notify.

``invalid`` mirrors Discord's 400 answers (an over-long message is rejected whole, not cut);
``notified`` applies Discord's allowed-mentions rules to say who would get pinged.
"""

from __future__ import annotations

from .payloads import mentioned_ids

CONTENT = 2000
EMBEDS = 10
EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, AUTHOR = 25, 256, 1024, 2048, 256


def invalid(body: dict, *, creating: bool) -> dict | None:
    """Discord's error body for a message create/edit payload that breaks a limit, else None."""
    problems: dict = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT:
        problems["content"] = _error("BASE_TYPE_MAX_LENGTH", f"Must be {CONTENT} or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS:
        problems["embeds"] = _error("BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        size, errors = _embed_errors(embed)
        total += size
        if errors:
            problems[f"embeds.{i}"] = errors
    if total > EMBED_TOTAL:
        problems["embeds"] = _error("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    mentions = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in mentions.get("parse", []) and mentions.get(kind):
            problems["allowed_mentions"] = _error(
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )
    if problems:
        return {"code": 50035, "errors": problems, "message": "Invalid Form Body"}
    if creating and not (content or embeds or body.get("components") or body.get("sticker_ids")):
        return {"code": 50006, "message": "Cannot send an empty message"}
    return None


def _embed_errors(embed: dict) -> tuple[int, dict]:
    errors: dict = {}
    size = 0
    for key, limit in EMBED_LIMITS.items():
        text = embed.get(key) or ""
        size += len(text)
        if len(text) > limit:
            errors[key] = _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    fields = embed.get("fields") or []
    if len(fields) > FIELDS:
        errors["fields"] = _error("BASE_TYPE_MAX_LENGTH", f"Must be {FIELDS} or fewer in length.")
    for j, f in enumerate(fields):
        name, value = f.get("name") or "", f.get("value") or ""
        size += len(name) + len(value)
        if not name or not value or len(name) > FIELD_NAME or len(value) > FIELD_VALUE:
            errors[f"fields.{j}"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 256/1024 in length.")
    for key, limit in (("footer", FOOTER), ("author", AUTHOR)):
        text = (embed.get(key) or {}).get("text" if key == "footer" else "name") or ""
        size += len(text)
        if len(text) > limit:
            errors[key] = _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return size, errors


def _error(code: str, message: str) -> dict:
    return {"_errors": [{"code": code, "message": message}]}


def notified(body: dict, *, replied_user_id: int | None, role_ids: set[int]) -> set[str]:
    """Who Discord would notify for this message body: "everyone", "user:<id>", "role:<id>",
    following the allowed-mentions rules (without the field, everything written is pinged)."""
    users, roles, everyone = mentioned_ids(body.get("content") or "")
    allowed = body.get("allowed_mentions")
    if allowed is None:
        out = {f"user:{u}" for u in users} | {f"role:{r}" for r in roles if r in role_ids}
        if everyone:
            out.add("everyone")
        if replied_user_id is not None:
            out.add(f"user:{replied_user_id}")
        return out
    parse = set(allowed.get("parse") or [])
    out: set[str] = set()
    if everyone and "everyone" in parse:
        out.add("everyone")
    allowed_users = {int(u) for u in allowed.get("users") or []}
    allowed_roles = {int(r) for r in allowed.get("roles") or []}
    out |= {f"user:{u}" for u in users if "users" in parse or u in allowed_users}
    out |= {f"role:{r}" for r in roles if r in role_ids and ("roles" in parse or r in allowed_roles)}
    if replied_user_id is not None and allowed.get("replied_user"):
        out.add(f"user:{replied_user_id}")
    return out
