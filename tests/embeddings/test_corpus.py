"""Tests for reading the seeds folder: formats, cleaning, bad inputs and stable ids."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.errors import CorpusError
from embeddings.ingest.corpus import clean_text, file_id, read_corpus
from embeddings.models import Corpus

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_bb6286341943b110.txt"

BODY = (
    "Heavy rain caused flooding in several coastal towns on Tuesday, officials said, and "
    "hundreds of residents were moved to shelters overnight.\n\n"
    "The regional government said emergency crews were working through the night to "
    "reinforce river banks near the harbour."
)

HTML_PAGE = """<!doctype html>
<html><head>
<title>Floods hit coastal towns</title>
<meta property="og:site_name" content="Daily Example">
<meta name="date" content="2024-03-05">
<link rel="canonical" href="https://example.com/floods">
<script>var tracking = "SCRIPT_LEAK_ONE";</script>
</head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a></nav>
<article>
<h1>Floods hit coastal towns</h1>
<p>Heavy rain caused flooding in several coastal towns on Tuesday, officials said, and
hundreds of residents were moved to shelters overnight.</p>
<script>document.write("SCRIPT_LEAK_TWO");</script>
<p>The regional government said emergency crews were working through the night to reinforce
river banks near the harbour.</p>
</article>
<footer>All rights reserved</footer>
</body></html>
"""


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def article_by_path(corpus: Corpus, path: str):
    matches = [a for a in corpus.articles if a.path == path]
    assert len(matches) == 1, (path, corpus)
    return matches[0]


def reasons(corpus: Corpus) -> dict[str, str]:
    return {s.path: s.reason for s in corpus.skipped}


# --- the real seed article ---------------------------------------------------------------


def test_seed_article(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / SEED.name)
    corpus = read_corpus(tmp_path)
    assert corpus.skipped == ()
    (article,) = corpus.articles
    assert article.id == "000_bb6286341943b110"
    assert article.path == SEED.name
    assert article.title == "China invites Pakistan to SCO’s Security Council’s meeting"
    assert article.place == "BEIJING"
    assert article.text.startswith("Adviser to Prime Minister")
    assert "May 21-22" in article.text
    for residue in ("Share this post", "scroll to top", "BEIJING :"):
        assert residue not in article.text
    assert "\n\n" in article.text and "\n\n\n" not in article.text
    assert article.title not in article.text.split("\n")[0]


# --- formats -------------------------------------------------------------------------------


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    write(
        tmp_path,
        "floods.md",
        "---\ntitle: Floods hit coastal towns\npublished: 2024-03-05\nsource: Daily Example\n"
        "url: https://example.com/floods\n---\n\n# Floods hit coastal towns\n\n"
        "LONDON, May 3 — Heavy **rain** caused [flooding](https://example.com/x) on Tuesday.\n\n"
        "![a photo](https://example.com/p.jpg)\n\n## Aftermath ##\n\n"
        "Crews worked through the night.\n",
    )
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Floods hit coastal towns"
    assert article.published == "2024-03-05"
    assert article.source == "Daily Example"
    assert article.url == "https://example.com/floods"
    assert article.place == "LONDON"
    assert article.id == "floods"
    assert article.text == ("Heavy rain caused flooding on Tuesday.\n\nAftermath\n\nCrews worked through the night.")


def test_markdown_title_from_heading_and_bad_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "Intro line\n\n# The Real Title\n\nSome body text here.\n")
    write(tmp_path, "b.md", "---\ntitle: [unclosed\n---\n# T\n\nBody.\n")
    write(tmp_path, "c.md", "---\ndate: 2024-13-45\n---\n# T\n\nBody.\n")
    write(tmp_path, "d.md", "---\n- a list\n---\n# T\n\nBody.\n")
    write(tmp_path, "e.md", "---\ntitle: &a [*a, *a]\n---\n# Heading wins\n\nC# is a language.\n")
    corpus = read_corpus(tmp_path)
    article = article_by_path(corpus, "a.md")
    assert article.title == "The Real Title"
    assert article.text == "Intro line\n\nSome body text here."
    got = reasons(corpus)
    assert got["b.md"].startswith("malformed front matter: ")
    assert got["c.md"] == "malformed front matter: month must be in 1..12"
    assert got["d.md"] == "malformed front matter: not a mapping of keys to values"
    article = article_by_path(corpus, "e.md")
    assert (article.title, article.text) == ("Heading wins", "C# is a language.")


def test_html_article(tmp_path: Path) -> None:
    write(tmp_path, "floods.html", HTML_PAGE)
    corpus = read_corpus(tmp_path)
    article = article_by_path(corpus, "floods.html")
    assert article.title == "Floods hit coastal towns"
    assert article.published == "2024-03-05"
    assert article.source == "Daily Example"
    assert article.url == "https://example.com/floods"
    assert article.text.startswith("Heavy rain caused flooding")
    assert "reinforce river banks" in article.text
    assert "\n\n" in article.text
    assert "SCRIPT_LEAK" not in article.text and "All rights reserved" not in article.text


def test_json_list_object_and_wrapped(tmp_path: Path) -> None:
    records = [
        {"title": "First story", "text": "Body of the first story.", "published": "2024-01-02"},
        {"title": "Second story", "body": "Body of the second.", "id": 42, "url": "https://x.y"},
        {"title": "Third story", "content": "Body of the third.", "date": "2024-01-03T10:00:00Z"},
    ]
    write(tmp_path, "list.json", json.dumps(records))
    write(tmp_path, "one.json", json.dumps({"title": "Solo", "text": "Solo body."}))
    write(tmp_path, "wrapped.json", json.dumps({"articles": [{"title": "W", "text": "W body."}]}))
    corpus = read_corpus(tmp_path)
    assert corpus.skipped == ()
    by_title = {a.title: a for a in corpus.articles}
    assert by_title["First story"].published == "2024-01-02"
    assert by_title["First story"].id.startswith("list-") and len(by_title["First story"].id) == 17
    assert by_title["First story"].path == "list.json"
    assert by_title["Second story"].id == "42"
    assert by_title["Second story"].url == "https://x.y"
    assert by_title["Third story"].text == "Body of the third."
    assert by_title["Third story"].published == "2024-01-03T10:00:00+00:00"
    assert by_title["Solo"].id == "one"
    assert by_title["W"].id.startswith("wrapped-")


def test_jsonl_bad_line_skipped_alone(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "Good one", "text": "First good body."}),
        "{not json",
        "",
        json.dumps({"title": "No text here"}),
        json.dumps({"text": "No title here"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "Good two", "text": "Second good body."}),
    ]
    write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    corpus = read_corpus(tmp_path)
    assert [a.title for a in corpus.articles] == ["Good one", "Good two"]
    assert [a.path for a in corpus.articles] == ["feed.jsonl:1", "feed.jsonl:7"]
    got = reasons(corpus)
    assert got["feed.jsonl:2"] == (
        "malformed JSON: Expecting property name enclosed in double quotes (line 2, column 2)"
    )
    assert got["feed.jsonl:4"] == "record has no text"
    assert got["feed.jsonl:5"] == "record has no title"
    assert got["feed.jsonl:6"] == "record is not a JSON object"


# --- bad inputs ----------------------------------------------------------------------------


def test_bad_files_are_skipped_and_good_ones_read(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", "Good headline\n\n" + BODY)
    write(tmp_path, "binary.txt", bytes(range(256)))
    write(tmp_path, "latin1.txt", "Headline\n\nCaf\xe9 owners".encode("latin-1"))
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "blank.md", " \n\t\n  \n")
    write(tmp_path, "broken.json", '{"title": "x", "text": }')
    write(tmp_path, "notext.json", json.dumps({"title": "Only a title"}))
    write(tmp_path, "big.txt", "Headline\n\n" + "word " * 100)
    write(
        tmp_path,
        "scripts.html",
        "<html><head><script>var a = 1;</script></head><body><script>var b = 2;</script></body></html>",
    )
    write(tmp_path, "headline-only.txt", "Just a headline\n\n\n")
    write(tmp_path, "notes.csv", "a,b\n1,2\n")  # other extensions are ignored silently
    write(tmp_path, ".hidden.txt", "Hidden\n\nHidden body.")
    write(tmp_path, ".git/HEAD.txt", "Hidden\n\nHidden body.")
    corpus = read_corpus(tmp_path, max_file_bytes=300)
    assert [a.path for a in corpus.articles] == ["good.txt"]
    assert reasons(corpus) == {
        "big.txt": "larger than the 300-byte limit",
        "binary.txt": "binary file (contains NUL bytes)",
        "blank.md": "empty file",
        "broken.json": "malformed JSON: Expecting value (line 1, column 24)",
        "empty.txt": "empty file",
        "headline-only.txt": "no article text found",
        "latin1.txt": "not valid UTF-8 (byte 13)",
        "notext.json": "record has no text",
        "scripts.html": "no article text found",
    }


def test_deeply_nested_json(tmp_path: Path) -> None:
    write(tmp_path, "deep.json", "[" * 100_000)
    write(tmp_path, "deep.jsonl", "[" * 100_000 + "\n" + json.dumps({"title": "T", "text": "B"}))
    corpus = read_corpus(tmp_path)
    assert reasons(corpus) == {
        "deep.json": "malformed JSON: nested too deeply",
        "deep.jsonl:1": "malformed JSON: nested too deeply",
    }
    assert [a.path for a in corpus.articles] == ["deep.jsonl:2"]


def test_skips_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "empty.txt", b"")
    with caplog.at_level("WARNING", logger="embeddings.ingest.corpus"):
        read_corpus(tmp_path)
    assert "empty.txt" in caplog.text and "empty file" in caplog.text


def test_size_limit_message_in_megabytes(tmp_path: Path) -> None:
    write(tmp_path, "big.txt", "Headline\n\n" + "x" * 200)
    corpus = read_corpus(tmp_path, max_file_bytes=2**20 * 32)
    assert len(corpus.articles) == 1
    write(tmp_path, "huge.txt", b"H\n\n" + b"x" * (2**20 + 1))
    assert reasons(read_corpus(tmp_path, max_file_bytes=2**20))["huge.txt"] == ("larger than the 1 MB limit")


def test_article_char_limit(tmp_path: Path) -> None:
    write(tmp_path, "long.txt", "Headline\n\n" + "a" * 50)
    corpus = read_corpus(tmp_path, max_article_chars=10)
    assert reasons(corpus) == {"long.txt": "article longer than the 10-character limit"}


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    write(tmp_path, "bom.txt", b"\xef\xbb\xbfHeadline\n\nBody text.")
    article = read_corpus(tmp_path).articles[0]
    assert article.title == "Headline" and article.text == "Body text."


def test_symlink_outside_root_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "seeds", tmp_path / "outside"
    write(outside, "secret.txt", "Secret\n\nSecret body.")
    write(root, "good.txt", "Good\n\nGood body.")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    os.symlink(root / "good.txt", root / "inside.txt")  # a link within the folder is read
    corpus = read_corpus(root)
    assert reasons(corpus) == {
        "link.txt": "symlink points outside the seeds folder",
        "linkdir": "symlink points outside the seeds folder",
    }
    assert sorted(a.path for a in corpus.articles) == ["good.txt", "inside.txt"]
    assert all("Secret" not in a.text for a in corpus.articles)


def test_odd_file_name_is_indexed(tmp_path: Path) -> None:
    name = "news/Ünïcode 'quoted' \"name\" (1).txt"
    write(tmp_path, name, "Odd name headline\n\n" + BODY)
    (article,) = read_corpus(tmp_path).articles
    assert article.path == name
    assert article.id == "news__-n-code--quoted---name---1-"
    assert article.title == "Odd name headline"


def test_duplicate_ids(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "# A\n\nFrom markdown.")
    write(tmp_path, "a.txt", "A\n\nFrom text.")
    corpus = read_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["a.md"]
    assert reasons(corpus) == {"a.txt": "duplicate article id a (also in a.md)"}


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "missing")
    write(tmp_path, "file.txt", "x")
    with pytest.raises(CorpusError, match="not a folder"):
        read_corpus(tmp_path / "file.txt")


def test_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    assert reasons(read_corpus(tmp_path)) == {"pipe.txt": "not a regular file"}


def test_walk_is_recursive_and_sorted(tmp_path: Path) -> None:
    for name in ("b/z.txt", "a.txt", "b/a.txt", "c.txt"):
        write(tmp_path, name, f"Title {name}\n\nBody.")
    corpus = read_corpus(tmp_path)
    assert [a.path for a in corpus.articles] == ["a.txt", "b/a.txt", "b/z.txt", "c.txt"]
    assert [a.id for a in corpus.articles] == ["a", "b__a", "b__z", "c"]


# --- ids and hashes ------------------------------------------------------------------------


def test_ids_and_hashes_are_stable(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / SEED.name)
    write(tmp_path, "feed.jsonl", json.dumps({"title": "T", "text": "Body.", "date": "2024-01-01"}))
    first, second = read_corpus(tmp_path), read_corpus(tmp_path)
    assert first == second
    before = {a.path: a for a in first.articles}
    seed = tmp_path / SEED.name
    seed.write_text(seed.read_text(encoding="utf-8").replace("May 21-22", "May 23"), "utf-8")
    after = {a.path: a for a in read_corpus(tmp_path).articles}
    assert after[SEED.name].id == before[SEED.name].id
    assert after[SEED.name].content_hash != before[SEED.name].content_hash
    assert after["feed.jsonl:1"] == before["feed.jsonl:1"]


def test_file_id() -> None:
    assert file_id("000_bb6286341943b110.txt") == "000_bb6286341943b110"
    assert file_id("dir/sub dir/é.x.md") == "dir__sub-dir__-.x"


# --- cleaning ------------------------------------------------------------------------------


def test_residue_lines_dropped_and_long_sentences_kept() -> None:
    cookie_sentence = (
        "The regulator said the company must stop placing tracking cookies on the devices "
        "of visitors who had not agreed to them, and must subscribe to an audit."
    )
    raw = "\n\n".join(
        [
            "Advertisement",
            "The first real paragraph.",
            "Share this article",
            "We use cookies to improve your experience. By using this site you accept cookies.",
            "- Follow us on Twitter",
            "Sign up for our newsletter",
            "Click here to read the full report",
            "Read more: other news",
            cookie_sentence,
            "Related Articles",
            "© 2024 Daily Example. All rights reserved.",
            "Print this page",
            "Comments (3)",
            "Accept all cookies",
            "    scroll to top",
            "Apple loses market share",
            "Print media struggles",
        ]
    )
    body, place = clean_text(raw)
    assert place is None
    assert body == (
        "The first real paragraph.\n\n" + cookie_sentence + "\n\nApple loses market share\n\nPrint media struggles"
    )


@pytest.mark.parametrize(
    ("line", "place", "rest"),
    [
        ("BEIJING : Officials said.", "BEIJING", "Officials said."),
        ("BEIJING: Officials said.", "BEIJING", "Officials said."),
        ("WASHINGTON (Reuters) - Officials said.", "WASHINGTON", "Officials said."),
        ("LONDON, May 3 — Officials said.", "LONDON", "Officials said."),
        ("NEW YORK (AP) — Officials said.", "NEW YORK", "Officials said."),
        ("ISLAMABAD, May 16 (APP): Officials said.", "ISLAMABAD", "Officials said."),
        ("SÃO PAULO – Officials said.", "SÃO PAULO", "Officials said."),
        ("Beijing: officials said.", None, "Beijing: officials said."),
        ("BREAKING: officials said.", None, "BREAKING: officials said."),
        ("BEIJING-based firms grew.", None, "BEIJING-based firms grew."),
        ("The meeting - held in May - ended.", None, "The meeting - held in May - ended."),
    ],
)
def test_datelines(line: str, place: str | None, rest: str) -> None:
    assert clean_text(line + "\n\nSecond paragraph.") == (rest + "\n\nSecond paragraph.", place)


def test_clean_text_normalises_whitespace_and_controls() -> None:
    raw = "First line  \r\nsecond\x00 line\x07\r\n\r\n\r\n\r\n“Quoted” text\t\n\n\n"
    assert clean_text(raw) == ("First line\nsecond line\n\n“Quoted” text", None)


def test_pathological_lines_are_fast(tmp_path: Path) -> None:
    write(tmp_path, "long.md", "# T\n\n" + "[" * 300_000 + "\n\n" + "A" * 300_000 + ": x\n")
    write(tmp_path, "long2.txt", "T\n\n" + "BEIJING, " * 100_000 + "\n")
    corpus = read_corpus(tmp_path)
    assert len(corpus.articles) == 2


# --- properties ----------------------------------------------------------------------------


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_clean_text_never_raises_and_drops_nul(raw: str) -> None:
    body, place = clean_text(raw)
    assert "\x00" not in body
    assert place is None or place in raw
    body.encode("utf-8")


@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_read_corpus_never_raises_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), "input" + suffix, data)
        corpus = read_corpus(Path(tmp))
    reported = [a.path for a in corpus.articles] + [s.path for s in corpus.skipped]
    assert reported and all(p.startswith("input" + suffix) for p in reported)


def test_other_extensions_and_fallback_titles(tmp_path: Path) -> None:
    write(tmp_path, "a.markdown", "A markdown title\n\nMarkdown body.")
    write(tmp_path, "b.HTM", HTML_PAGE.replace("<title>Floods hit coastal towns</title>", ""))
    write(tmp_path, "c.TXT", "Advertisement\n\nReal headline\n\nKARACHI: Text body.")
    corpus = read_corpus(tmp_path)
    assert corpus.skipped == ()
    titles = {a.path: (a.id, a.title, a.place) for a in corpus.articles}
    assert titles == {
        "a.markdown": ("a", "A markdown title", None),
        "b.HTM": ("b", "Floods hit coastal towns", None),
        "c.TXT": ("c", "Real headline", "KARACHI"),
    }
    assert article_by_path(corpus, "c.TXT").text == "Text body."


def test_json_control_characters_and_lone_surrogates_are_dropped(tmp_path: Path) -> None:
    write(tmp_path, "s.json", '{"title": "Bad \\ud800 title\\u0007", "text": "Body \\udfff ok\\u0000."}')
    (article,) = read_corpus(tmp_path).articles
    assert (article.title, article.text) == ("Bad title", "Body  ok.")
