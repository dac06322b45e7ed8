"""Render what the bot's answers look like in Discord, from its real message payloads.

Starts the fake Discord server of the tests and the real bot (``tests/bot/conftest.py``'s
``running``), indexes the seed corpus, runs /ask, /summary, /timeline and a question the articles
cannot answer, then renders the JSON messages the bot sent (embeds, buttons) with a small
Discord-like HTML template and takes a screenshot with headless Chromium.

    .venv/bin/python docs/discord_preview.py [--out docs/discord-preview.png] [--html preview.html]

``make preview`` runs it. Needs Chromium and an emoji font
(Debian: ``apt-get install chromium fonts-noto-color-emoji``).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.bot.conftest import Discord, running  # noqa: E402

ASK = "when does the SCO security meeting happen?"
TIMELINE = "SCO"
UNANSWERABLE = "what's the weather in Paris tomorrow?"
WIDTH = 900


def engine_over_seeds(root: Path):
    """A real engine over a copy of ``seeds/``, indexed into ``root``."""
    from embeddings.encoders import load_encoder
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    seeds = root / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    settings = EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds)
    engine = Engine(settings, load_encoder(settings))
    engine.refresh()
    return engine


async def capture(engine) -> list[tuple[str, dict]]:
    """The command each user ran and the message the bot answered it with."""
    shots: list[tuple[str, dict]] = []
    async with running(engine) as d:

        async def run(label: str, name: str, **options: str) -> None:
            ix = await d.server.slash(d.alice, name, **options)
            await d.server.wait_for(lambda: ix.original and not ix.loading, timeout=60)
            shots.append((label, ix.original))

        await run(f"/ask question: {ASK}", "ask", question=ASK)
        await summary(d, run)
        await run(f"/timeline topic: {TIMELINE}", "timeline", topic=TIMELINE)
        await run(f"/ask question: {UNANSWERABLE}", "ask", question=UNANSWERABLE)
    return shots


async def summary(d: Discord, run) -> None:
    """/summary of the seed article, chosen the way a user does: from the autocomplete list."""
    choices = await d.server.autocomplete(d.alice, "summary", focused="article", article="SCO")
    choice = choices[0]
    await run(f"/summary article: {choice['name']}", "summary", article=choice["value"])


# -- rendering --

CSS = """
body { margin: 0; background: #313338; color: #dbdee1; width: %(width)dpx;
       font: 15px/1.375 "gg sans", "Noto Sans", "DejaVu Sans", Helvetica, Arial, sans-serif; }
.msg { display: flex; padding: 10px 18px 14px 16px; }
.avatar { width: 40px; height: 40px; border-radius: 50%%; background: #5865f2; color: #fff; flex: none;
          display: flex; align-items: center; justify-content: center; font-weight: 700; margin-right: 14px; }
.body { min-width: 0; flex: 1; }
.used { font-size: 13px; color: #b5bac1; margin: 0 0 2px 54px; padding-top: 12px; }
.used b { color: #c9cdfb; font-weight: 600; }
.name { color: #f2f3f5; font-weight: 600; }
.tag { background: #5865f2; color: #fff; font-size: 10px; font-weight: 600; border-radius: 3px;
       padding: 0 4px; margin-left: 4px; vertical-align: 2px; }
.time { color: #949ba4; font-size: 12px; margin-left: 6px; }
.embed { background: #2b2d31; border-left: 4px solid #5865f2; border-radius: 4px; max-width: 620px;
         padding: 8px 16px 12px 12px; margin-top: 4px; }
.etitle { color: #f2f3f5; font-weight: 600; margin-top: 4px; }
.etitle a { color: #00a8fc; text-decoration: none; }
.edesc { font-size: 14px; margin-top: 6px; white-space: pre-wrap; }
.fields { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-top: 8px; }
.field { font-size: 14px; flex: 1 1 100%%; white-space: pre-wrap; }
.field.inline { flex: 1 1 30%%; }
.fname { font-weight: 600; color: #f2f3f5; margin-bottom: 2px; }
.footer { font-size: 12px; color: #b5bac1; margin-top: 8px; }
blockquote { margin: 0; padding-left: 10px; border-left: 4px solid #4e5058; }
a { color: #00a8fc; text-decoration: none; }
code { background: #1e1f22; border-radius: 3px; padding: 0 3px; font-size: 13px; }
.row { display: flex; gap: 8px; margin-top: 8px; }
.button { border-radius: 3px; padding: 3px 14px; font-size: 14px; font-weight: 500; color: #fff;
          min-height: 26px; display: flex; align-items: center; }
.s1 { background: #5865f2; } .s2 { background: #4e5058; } .s3 { background: #248046; }
.s4 { background: #da373c; } .s5 { background: #4e5058; }
.content { white-space: pre-wrap; }
"""


def markdown(text: str) -> str:
    """The small part of Discord's markdown the bot uses: quotes, bold, italics, links, code."""
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith("> ") or line == ">":
            quote.append(inline(line[2:]))
            continue
        if quote:
            out.append("<blockquote>" + "\n".join(quote) + "</blockquote>")
            quote = []
        out.append(inline(line) + "\n")
    if quote:
        out.append("<blockquote>" + "\n".join(quote) + "</blockquote>")
    return "".join(out).rstrip("\n")


def inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\[([^\]]+)\]\(&lt;?(https?://[^)\s]+?)&gt;?\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", text)
    text = re.sub(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)", r"<i>\1</i>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def render_embed(e: dict) -> str:
    colour = e.get("color")
    bar = f' style="border-left-color:#{colour:06x}"' if isinstance(colour, int) else ""
    parts = [f'<div class="embed"{bar}>']
    if e.get("author"):
        parts.append(f'<div class="footer">{html.escape(e["author"].get("name", ""))}</div>')
    if e.get("title"):
        title = html.escape(e["title"])
        if e.get("url"):
            title = f'<a href="{html.escape(e["url"])}">{title}</a>'
        parts.append(f'<div class="etitle">{title}</div>')
    if e.get("description"):
        parts.append(f'<div class="edesc">{markdown(e["description"])}</div>')
    if e.get("fields"):
        parts.append('<div class="fields">')
        for f in e["fields"]:
            cls = "field inline" if f.get("inline") else "field"
            parts.append(f'<div class="{cls}"><div class="fname">{inline(f["name"])}</div>{markdown(f["value"])}</div>')
        parts.append("</div>")
    if e.get("footer"):
        parts.append(f'<div class="footer">{html.escape(e["footer"].get("text", ""))}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_components(rows: list[dict]) -> str:
    parts = []
    for row in rows:
        parts.append('<div class="row">')
        for c in row.get("components", []):
            emoji = (c.get("emoji") or {}).get("name") or ""
            label = " ".join(x for x in (emoji, html.escape(c.get("label") or "")) if x)
            parts.append(f'<div class="button s{c.get("style", 2)}">{label}</div>')
        parts.append("</div>")
    return "".join(parts)


def render(shots: list[tuple[str, dict]], bot_name: str = "newsbot") -> str:
    body = []
    for label, message in shots:
        command, _, rest = label.partition(" ")
        body.append(f'<div class="used">↱ alice used <b>{html.escape(command)}</b> {html.escape(rest)}</div>')
        body.append('<div class="msg"><div class="avatar">N</div><div class="body">')
        body.append(f'<span class="name">{html.escape(bot_name)}</span><span class="tag">APP</span>')
        body.append('<span class="time">Today at 09:41</span>')
        if message.get("content"):
            body.append(f'<div class="content">{markdown(message["content"])}</div>')
        body += [render_embed(e) for e in message.get("embeds") or []]
        body.append(render_components(message.get("components") or []))
        body.append("</div></div>")
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        + CSS % {"width": WIDTH}
        + "</style><title>0</title></head><body>"
        + "".join(body)
        + '<div style="height:8px"></div>'
        + "<script>document.title = String(document.documentElement.scrollHeight)</script>"
        + "</body></html>"
    )


def chromium(*args: str) -> str:
    """Run headless Chromium with ``args``; its standard output."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("chromium not found: apt-get install chromium fonts-noto-color-emoji")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}",
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return done.stdout


def screenshot(page: Path, out: Path) -> None:
    """A screenshot of the whole page: a first run measures its height (the page's script
    writes it into the title), the second takes the picture at that size."""
    dom = chromium(f"--window-size={WIDTH},200", "--dump-dom", page.as_uri())
    found = re.search(r"<title>(\d+)</title>", dom)
    height = int(found.group(1)) if found else 1500
    chromium(f"--screenshot={out}", f"--window-size={WIDTH},{height}", page.as_uri())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "discord-preview.png")
    parser.add_argument("--html", type=Path, help="also keep the rendered HTML here")
    parser.add_argument("--json", type=Path, help="also keep the captured payloads here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shots = asyncio.run(capture(engine_over_seeds(root)))
        page = root / "preview.html"
        page.write_text(render(shots), encoding="utf-8")
        if args.html:
            shutil.copy(page, args.html)
        if args.json:
            args.json.write_text(json.dumps(shots, indent=2, ensure_ascii=False), encoding="utf-8")
        screenshot(page, args.out.resolve())
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
