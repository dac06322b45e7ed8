"""Finding an article by a loose reference, and extractive summaries of one article or a topic.

Summaries only ever quote whole sentences verbatim (``text[s.start:s.end]``), so every point
can be checked against its article. Sentences are picked by maximal marginal relevance (MMR)
over the encoder's sentence vectors: relevant to the article (or the question), and never a
near-duplicate of a sentence already picked, because news copy often says the same thing twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from embeddings.encoders import Encoder
from embeddings.errors import ArticleNotFoundError
from embeddings.ingest.formats import is_residue
from embeddings.ingest.sentences import split_sentences
from embeddings.models import Article, Citation, Hit, Sentence, Summary, SummaryPoint

# -- tuning (measured on the seed article and the test fixtures with all-MiniLM-L6-v2) --

FIND_THRESHOLD = 75.0  # fuzzy score (0-100) a title needs to count as "the" article
SUGGEST_THRESHOLD = 60.0  # looser: autocomplete may offer near misses
TIE_MARGIN = 1.0  # two titles this close to the best are a real ambiguity
MIN_WORDS = 5  # shorter "sentences" are bylines, captions, residue
MAX_SCAN_CHARS = 50_000  # a summary reads the head of a huge article only (news is lead-first)
MAX_CANDIDATES = 150  # and encodes at most this many sentences
MMR_LAMBDA = 0.7  # weight of relevance against redundancy
NEAR_DUPLICATE = 0.75  # cosine at or above which two sentences say the same thing; seed pairs: 0.80-0.90
LEAD_PRIOR, LEAD_DECAY = 0.15, 0.6  # bonus of sentence i: LEAD_PRIOR * LEAD_DECAY**i
TITLE_WEIGHT = 0.5  # the headline's pull on the article centroid
OFF_TOPIC = 0.35  # past min_sentences, a sentence this far from the centroid is not added
CONTEXT_WEIGHT = 0.5  # digest: share of a sentence's relevance that comes from its chunk
DIGEST_MARGIN = 0.2  # digest: sentences this far below the best (or under half of it) are left out
PER_ARTICLE = 2  # digest: points per article at most
SPREAD_PENALTY = 0.1  # digest: MMR cost of each point already taken from the same article

_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'}
)
_WORDS = re.compile(r"\w+")


# -- finding an article --


def find_article(articles: Sequence[Article], ref: str) -> Article:
    """The article ``ref`` names: its exact id, else its exact title (ignoring case, spacing
    and curly vs straight quotes), else the one title that fuzzily matches well enough (a few
    of its words, typos allowed). Raises ``ArticleNotFoundError`` with a user-fit message
    (naming up to three close titles) when none does, or when two titles match equally well."""
    key = _exact_key(ref or "")
    if not key:
        raise ArticleNotFoundError("Which article? Give its title or id.")
    for article in articles:
        if article.id == ref.strip():
            return article
    for article in articles:
        if _exact_key(article.title) == key or article.id.casefold() == key:
            return article
    ranked = _ranked(articles, ref)
    if ranked and ranked[0][0] >= FIND_THRESHOLD:
        (top, best), rest = ranked[0], ranked[1:]
        # Distinct titles scoring alike ("portmere" for the bridge and the marathon): ask.
        same = _exact_key(best.title)
        rivals = [a for s, a in rest if top - s <= TIE_MARGIN and _exact_key(a.title) != same]
        if not rivals:
            return best
        raise ArticleNotFoundError(
            f"{_shown(ref)} matches several articles: {_titles([best, *rivals[:2]])}. Which one?"
        )
    if not articles:
        raise ArticleNotFoundError(f"There are no articles yet, so none matches {_shown(ref)}.")
    raise ArticleNotFoundError(
        f"No article matches {_shown(ref)}. Did you mean: {_titles([a for _, a in ranked[:3]])}?"
    )


def suggest_articles(articles: Sequence[Article], text: str, limit: int = 25) -> list[Article]:
    """Up to ``limit`` articles for an autocomplete box: titles (or ids) starting with
    ``text`` first, then titles containing its words (the last one may be half typed), then
    fuzzy matches; the newest articles first when ``text`` is blank."""
    newest = _newest_first(articles)
    query = _fold(text or "")
    if not query:
        return newest[:limit]
    words = _WORDS.findall(query)

    def tier(article: Article) -> int:
        title = _fold(article.title)
        if title.startswith(query) or _fold(article.id).startswith(query):
            return 0
        title_words = _WORDS.findall(title)
        return 1 if words and all(any(t.startswith(w) for t in title_words) for w in words) else 2

    scored = [(tier(a), -_score(query, a.title), rank, a) for rank, a in enumerate(newest)]
    kept = [row for row in scored if row[0] < 2 or -row[1] >= SUGGEST_THRESHOLD]
    return [row[-1] for row in sorted(kept, key=lambda row: row[:3])][:limit]


def _exact_key(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


def _fold(text: str) -> str:
    """Lower case, straight quotes, no accents, single spaces: what fuzzy matching compares."""
    decomposed = unicodedata.normalize("NFKD", _exact_key(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _score(query: str, title: str) -> float:
    """0-100: how well the folded ``query`` names ``title``.

    Mostly word coverage (each query word against its closest title word, so a few words of a
    long title score high where whole-string ratios would not), partly the whole-string WRatio
    (which rewards a query that is most of the title, telling near-ties apart)."""
    title = _fold(title)
    query_words, title_words = _WORDS.findall(query), _WORDS.findall(title)
    if not query_words or not title_words:
        return 0.0
    coverage = sum(max(_word_score(q, t) for t in title_words) for q in query_words) / len(query_words)
    return 0.75 * coverage + 0.25 * fuzz.WRatio(query, title, processor=default_process)


def _word_score(word: str, title_word: str) -> float:
    if word == title_word:
        return 100.0
    if len(word) >= 3 and title_word.startswith(word):
        return 95.0  # a half-typed word
    if min(len(word), len(title_word)) < 4:
        return 0.0  # "inv" is not a typo of "in": short words match exactly or not at all
    return fuzz.ratio(word, title_word)


def _ranked(articles: Sequence[Article], ref: str) -> list[tuple[float, Article]]:
    query = _fold(ref)
    scored = [(_score(query, a.title), a) for a in _newest_first(articles)]
    return sorted(scored, key=lambda pair: -pair[0])  # stable: newest first among equals


def _newest_first(articles: Sequence[Article]) -> list[Article]:
    by_title = sorted(articles, key=lambda a: a.title.casefold())
    dated = sorted((a for a in by_title if a.published), key=lambda a: a.published or "", reverse=True)
    return dated + [a for a in by_title if not a.published]


def _shown(ref: str) -> str:
    ref = " ".join(ref.split())
    return f"'{ref[:77]}...'" if len(ref) > 80 else f"'{ref}'"


def _titles(articles: Sequence[Article]) -> str:
    return "; ".join(f"“{a.title}”" for a in articles)


# -- summarising one article --


def summarize_article(article: Article, encoder: Encoder, *, max_sentences: int = 5, min_sentences: int = 3) -> Summary:
    """An extractive summary: between ``min_sentences`` and ``max_sentences`` sentences
    (fewer only when the article has fewer distinct, full sentences), quoted verbatim and in
    article order. Favours the lead and sentences central to the article; never two sentences
    that say the same thing; skips fragments (under five words) and page residue."""
    if max_sentences < 1:
        raise ValueError("max_sentences must be at least 1")
    citation = Citation.of(article)
    texts = [article.text[s.start : s.end] for s in _candidates(article.text)]
    if not texts:
        return Summary(article.title, (), citation)
    vectors = encoder.encode([article.title, *texts])
    title_vector, vectors = vectors[0], vectors[1:]
    centrality = vectors @ _centroid(vectors, title_vector)
    lead = LEAD_PRIOR * LEAD_DECAY ** np.arange(len(texts))
    chosen = _select(centrality + lead, vectors, max_sentences)
    # Past the minimum, a sentence must still be about the article (not a stray aside).
    keep = min(min_sentences, max_sentences)
    chosen = [i for rank, i in enumerate(chosen) if rank < keep or centrality[i] >= OFF_TOPIC]
    return Summary(article.title, tuple(SummaryPoint(texts[i], citation) for i in sorted(chosen)), citation)


def _candidates(text: str) -> list[Sentence]:
    """The sentences worth quoting, from the head of the text."""
    head = text[:MAX_SCAN_CHARS]
    spans = list(split_sentences(head))
    if len(text) > MAX_SCAN_CHARS and spans:
        spans.pop()  # may be cut mid-sentence
    full = [s for s in spans if _is_full_sentence(text[s.start : s.end])]
    if not full:  # an article of fragments only: better a fragment than nothing
        full = [s for s in spans if any(ch.isalnum() for ch in text[s.start : s.end])]
    return full[:MAX_CANDIDATES]


def _is_full_sentence(sentence: str) -> bool:
    words = sum(1 for token in sentence.split() if any(ch.isalnum() for ch in token))
    return words >= MIN_WORDS and not is_residue(sentence)


def _centroid(vectors: np.ndarray, title_vector: np.ndarray) -> np.ndarray:
    mean: np.ndarray = vectors.mean(axis=0)
    mean /= np.linalg.norm(mean) or 1.0
    centre = mean + TITLE_WEIGHT * title_vector
    return centre / (np.linalg.norm(centre) or 1.0)


def _select(relevance: np.ndarray, vectors: np.ndarray, limit: int, groups: Sequence[int] | None = None) -> list[int]:
    """Greedy MMR: up to ``limit`` indices, best first. A candidate at NEAR_DUPLICATE cosine
    or above to a chosen one is never chosen. With ``groups`` (an article per candidate), at
    most PER_ARTICLE per group and each point already in a group costs SPREAD_PENALTY."""
    redundancy = np.full(len(relevance), -1.0)
    open_ = np.ones(len(relevance), dtype=bool)
    taken: Counter[int] = Counter()
    chosen: list[int] = []
    while len(chosen) < limit:
        spread = np.array([taken[g] for g in groups]) * SPREAD_PENALTY if groups else 0.0
        score = MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * np.maximum(redundancy, 0.0) - spread
        score = np.where(open_ & (redundancy < NEAR_DUPLICATE), score, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        chosen.append(best)
        open_[best] = False
        redundancy = np.maximum(redundancy, vectors @ vectors[best])
        if groups:
            taken[groups[best]] += 1
            if taken[groups[best]] >= PER_ARTICLE:
                open_ &= np.array([g != groups[best] for g in groups])
    return chosen


# -- a digest across retrieved articles --


def summarize_topic(query: str, hits: Sequence[Hit], encoder: Encoder, *, max_points: int = 5) -> Summary:
    """A digest of what the ``hits`` (best first) say about ``query``: up to ``max_points``
    sentences quoted verbatim, at most two per article, spread over several articles when they
    are about as relevant, and never two that say the same thing. Points are grouped by
    article (best article first), in article order within one, each citing its article with
    the article's best hit score. No hits give a summary without points."""
    title = f"Digest: {query}"
    articles, citations, spans, contexts = _digest_candidates(hits)
    if not spans:
        return Summary(title, ())
    texts = [articles[a].text[s.start : s.end] for a, s in spans]
    # The chunk's score carries the headline and neighbouring sentences, which a lone sentence
    # lacks ("Portmere" is in the bridge story's headline only). Hybrid hits already have it.
    missing = [h for h, hit in enumerate(hits) if hit.dense_score is None]
    rows = encoder.encode([query, *texts, *(hits[h].chunk.embed_text for h in missing)])
    query_vector, vectors = rows[0], rows[1 : 1 + len(texts)]
    chunk_scores = [hit.dense_score or 0.0 for hit in hits]  # the missing ones are filled in next
    for h, row in zip(missing, rows[1 + len(texts) :]):
        chunk_scores[h] = float(row @ query_vector)
    context = np.array([max(chunk_scores[h] for h in hit_ids) for hit_ids in contexts])
    relevance = (1 - CONTEXT_WEIGHT) * (vectors @ query_vector) + CONTEXT_WEIGHT * context
    # An article that only came along to fill the hit list should not get a point: keep what
    # is close to the best sentence (within DIGEST_MARGIN, and at least half as relevant).
    best = float(relevance.max())
    relevance[relevance < best - min(DIGEST_MARGIN, 0.5 * max(best, 0.0))] = -np.inf
    chosen = _select(relevance, vectors, max_points, groups=[a for a, _ in spans])
    chosen.sort(key=lambda i: (spans[i][0], spans[i][1].start))
    return Summary(title, tuple(SummaryPoint(texts[i], citations[spans[i][0]]) for i in chosen))


def _digest_candidates(
    hits: Sequence[Hit],
) -> tuple[list[Article], list[Citation], list[tuple[int, Sentence]], list[list[int]]]:
    """Articles in hit order with their citations, and the distinct full sentences of the hit
    chunks as (article index, sentence) with the hits whose chunk holds each (chunks overlap)."""
    articles: list[Article] = []
    citations: list[Citation] = []
    spans: list[tuple[int, Sentence]] = []
    contexts: list[list[int]] = []
    article_index: dict[str, int] = {}
    span_index: dict[tuple[int, Sentence], int] = {}
    for h, hit in enumerate(hits):
        if hit.article.id not in article_index:
            article_index[hit.article.id] = len(articles)
            articles.append(hit.article)
            citations.append(Citation.of(hit.article, score=hit.score))  # its best hit
        a = article_index[hit.article.id]
        for sentence in hit.chunk.sentences:
            key = (a, sentence)
            if key in span_index:
                contexts[span_index[key]].append(h)
            elif _is_full_sentence(hit.article.text[sentence.start : sentence.end]):
                span_index[key] = len(spans)
                spans.append(key)
                contexts.append([h])
    return articles, citations, spans, contexts
