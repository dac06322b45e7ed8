"""Sentence choice on XQuAD and the natural questions, re-ranked offline: every question is
retrieved and its candidate sentences scored once (lexical features, the stored sentence
cosine, whether it is its article's first sentence, whether it holds a span of the asked-for
kind, its neighbours' cosines, its cosine to the question without its topic words and, with
``--encode-top N``, the N best encoded alone), then each combination of ``--grid`` values of
``KNOBS`` (the engine's ``semantic_weight``, ``untyped_penalty``, ``untyped_where_penalty``,
and ``misfit_share`` 1 as in it; the rest measured, not in the engine) re-ranks them without
searching again (``--save``/``--load`` keep the scored candidates). ``--index DIR`` asks the natural
questions of ``--split`` over an existing index (the whole-corpus cache of ``newsbot
eval-news``) instead of ``--natural-cache``'s mid-size one.

Prints, per combination and set, how often the best sentence holds the answer (before any
refusal), how often a sentence the writer would quote does (``SET+quote``: ``recency.choose``
among the re-ranked candidates, as ``eval-news`` counts it) and how often the best sentence is
from the question's own article (``SET+article``). ``--dump PREFIX`` writes the confidence
signals of the best sentence under ``--choose`` for ``benchmarks.fit_confidence``
(``PREFIX-xquad.jsonl``, ``PREFIX-natural-SPLIT.jsonl``). docs/EVALUATION.md, "Sentence choice
by meaning and by the asked-for kind" and "Sentence choice, session 7", has the runs.

    .venv/bin/python -m benchmarks.evidence_lab --xquad ../shared/eval/xquad-v1-en.json --xquad-cache /tmp/ans/xq \\
        --natural-cache /tmp/ans/nat --others 20 --split dev --save /tmp/ans/dev.pkl \\
        --grid semantic_weight=0,0.5,3 untyped_penalty=0,0.7 untyped_where_penalty=0,0.3 \\
        --choose semantic_weight=3 untyped_penalty=0.7 untyped_where_penalty=0.3 --dump /tmp/ans/feat
    .venv/bin/python -m benchmarks.evidence_lab --index /work/cache/natural-index/whole-KEY --split dev \\
        --policy passages=10 --encode-top 12 --save /tmp/ans/whole-dev.pkl \\
        --grid semantic_weight=3 untyped_penalty=0.7 untyped_where_penalty=0.3 misfit_share=0,1 passages=5,10
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import pickle
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.answer_lab import parse_policy
from benchmarks.natural_lab import build, load_questions, matches
from embeddings.answer.answering import answer_components
from embeddings.answer.evidence import Candidate, QuestionFeatures, _stored, misfits, read_question
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.recency import choose
from embeddings.answer.support import support_signals
from embeddings.answer.writer import CONFIDENCE_SIGNALS, confidence_signals, is_unfilled
from embeddings.encoders import load_encoder
from embeddings.evaluation import Dataset, load_squad, normalize_answer, split_holdout
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.models import Corpus, Hit
from embeddings.retrieval import Retriever, clean_query
from embeddings.settings import EngineSettings

KNOBS = (
    "semantic_weight",
    "lead_weight",
    "untyped_penalty",
    "untyped_where_penalty",
    "passages",  # only the sentences of the first N passages compete (score with --policy passages=N+)
    "retrieval_weight",  # x the passage's fused score over the first passage's
    "neighbour_weight",  # x the best cosine of the sentence before or after it (same article)
    "support_weight",  # x the share of the read passages that come from the sentence's article
    "predicate_weight",  # x the cosine to the question without its topic words (predicate_text)
    "pronoun_weight",  # x the coverage of the sentence before one that opens with a pronoun ("He won ...")
    "misfit_share",  # share of that penalty off a sentence whose span misfits (evidence.misfits)
    "alone_top",  # the best N under the other knobs are re-ranked with ...
    "alone_weight",  # ... this weight x the cosine of the sentence encoded alone (--encode-top)
    "coverage_scale",  # the lexical features' weights, as multiples of the scored policy's
    "exact_scale",
    "phrase_scale",
    "typed_scale",
    "rank_scale",
)
DEFAULTS = {"passages": 99.0, "misfit_share": 1.0} | dict.fromkeys(KNOBS[-5:], 1.0)  # not 0 by default (as the engine)


@dataclass(frozen=True)
class Scored:
    """One question's candidates with what the knobs re-rank them by."""

    set: str
    question: str
    present: bool
    kind: AnswerType
    hits: list[Hit]
    candidates: list[Candidate]  # scored with every knob at 0
    lead: list[bool]
    hit: list[bool]  # the sentence holds the answer
    neighbour: list[float]  # the best cosine of its neighbouring sentences among the candidates
    article_id: str | None = None  # the question's own article (natural questions)
    alone: dict[int, float] = dataclasses.field(default_factory=dict)  # candidate → cosine encoded alone
    predicate: list[float] = dataclasses.field(default_factory=list)  # cosine to the question minus its topic
    features: QuestionFeatures | None = None  # as the writer sees it (weights as a plain dict: picklable)


Ask = tuple[str, bool, Callable[[str], bool], str | None]  # question, present, holds the answer, own article


def score_all(
    retriever: Retriever, asks: list[Ask], name: str, policy: AnswerPolicy, encode_top: int = 0
) -> Iterator[Scored]:
    """Each ask's candidates scored with every knob at 0, and the ``encode_top`` best under the
    policy's weights encoded alone (their cosine kept for ``alone_weight``)."""
    base = dataclasses.replace(policy, semantic_weight=0.0, untyped_penalty=0.0, untyped_where_penalty=0.0)
    selector = answer_components(base, embedder=retriever).selector
    analyzer = retriever.snapshot.analyzer
    for text, present, holds, own in asks:
        features = read_question(clean_query(text), (), analyzer, base)
        hits = retriever.search(features.standalone, base.passages)
        candidates = selector.select(features, analyzer, hits)
        lead = [is_lead(c.hit, c.text) for c in candidates]
        holding = [holds(c.text) for c in candidates]
        kept = dataclasses.replace(features, weights=dict(features.weights))
        scored = Scored(
            name,
            text,
            present,
            features.kind,
            hits,
            candidates,
            lead,
            holding,
            neighbours(candidates),
            own,
            features=kept,
        )
        scored.predicate.extend(predicate_cosines(retriever, text, hits, candidates))
        if encode_top and candidates:
            knobs = {
                **dict.fromkeys(KNOBS, 0.0),
                **DEFAULTS,
                **{k: getattr(policy, k) for k in KNOBS[:4] if k != "lead_weight"},
            }
            score = totals(scored, knobs)
            top = sorted((i for i, t in enumerate(score) if t is not None), key=lambda i: -(score[i] or 0.0))
            top = top[:encode_top]
            vectors = retriever.embed_texts([candidates[i].text for i in top])
            query = retriever.embed_query(features.standalone)
            scored.alone.update((i, float(v @ query)) for i, v in zip(top, vectors, strict=True))
        yield scored


def predicate_text(question: str, analyzer, hits: list[Hit]) -> str:
    """``question`` without the words most of the passages share (the topic, "Sharon"), so what
    is left asks for the fact ("how old is ... now")."""
    texts = [set(analyzer.terms(f"{h.chunk.heading} {h.chunk.text}")) for h in hits]
    need = max(2, (len(hits) + 1) // 2)
    kept = []
    for word in re.findall(r"[\w’'-]+", question):
        terms = analyzer.terms(word)
        if not terms or sum(terms[0] in t for t in texts) < need:
            kept.append(word)
    return " ".join(kept) or question


def predicate_cosines(retriever: Retriever, question: str, hits: list[Hit], candidates: list[Candidate]) -> list[float]:
    """Per candidate, the cosine of its stored sentence vector to ``predicate_text``'s vector."""
    if not candidates:
        return []
    query = retriever.embed_texts([predicate_text(question, retriever.snapshot.analyzer, hits)])[0]
    stored = _stored(retriever.sentence_vectors(list(dict.fromkeys(h.chunk_id for h in hits))), hits)
    return [float(stored[k] @ query) if (k := (c.hit.chunk_id, c.text)) in stored else 0.0 for c in candidates]


def neighbours(candidates: list[Candidate]) -> list[float]:
    """Per candidate, the higher cosine of the sentences just before and after it in its chunk
    (those among the candidates; 0 when neither is)."""
    cosine: dict[tuple[str, int], float] = {}
    places: list[tuple[str, list[int], int]] = []
    for c in candidates:
        starts = [s.start for s in c.hit.chunk.sentences]
        texts = [c.hit.article.text[s.start : s.end] for s in c.hit.chunk.sentences]
        i = texts.index(c.text) if c.text in texts else -1
        if i >= 0:
            cosine[(c.hit.article.id, starts[i])] = c.cosine or 0.0
        places.append((c.hit.article.id, starts, i))
    return [
        max((cosine.get((a, starts[j]), 0.0) for j in (i - 1, i + 1) if i >= 0 and 0 <= j < len(starts)), default=0.0)
        for a, starts, i in places
    ]


_PRONOUN = re.compile(r"^(?:He|She|His|Her|They|Their|It|Its|The (?:company|group|man|woman))\b")


def antecedents(candidates: list[Candidate]) -> list[float]:
    """Per candidate opening with a pronoun, the coverage of the sentence before it in its chunk
    (when that one is a candidate too); 0 for the others."""
    coverage = {(c.hit.article.id, c.text): c.coverage for c in candidates}
    out = []
    for c in candidates:
        texts = [c.hit.article.text[s.start : s.end] for s in c.hit.chunk.sentences]
        i = texts.index(c.text) if c.text in texts else 0
        out.append(coverage.get((c.hit.article.id, texts[i - 1]), 0.0) if i > 0 and _PRONOUN.match(c.text) else 0.0)
    return out


def support(scored: Scored, i: int) -> dict[str, float] | None:
    """``support.support_signals`` of candidate ``i`` (None for a save made before questions were kept)."""
    if scored.features is None:
        return None
    return support_signals(scored.features, scored.candidates[i], scored.candidates)


def is_lead(hit: Hit, text: str) -> bool:
    """Whether ``text`` is the first sentence of ``hit``'s article (the news lead)."""
    first = hit.chunk.sentences[0] if hit.chunk.ordinal == 0 and hit.chunk.sentences else None
    return first is not None and hit.article.text[first.start : first.end] == text


def totals(scored: Scored, knobs: dict[str, float]) -> list[float | None]:
    """Each candidate's score under ``knobs`` (the penalties as ``SemanticEvidenceScorer`` takes
    them: none for other questions, ``untyped_where_penalty`` for where); None for a sentence of
    a passage beyond ``passages``."""
    penalty = 0.0 if scored.kind is AnswerType.OTHER else knobs["untyped_penalty"]
    if scored.kind is AnswerType.WHERE:
        penalty = knobs["untyped_where_penalty"]
    read = scored.hits[: int(knobs["passages"])]
    top = read[0].score if read and read[0].score > 0 else 1.0
    articles = [h.article.id for h in read]
    misfit = [misfits(scored.question, scored.kind, c.text, c.span) for c in scored.candidates]
    before = antecedents(scored.candidates) if knobs["pronoun_weight"] else [0.0] * len(scored.candidates)
    out: list[float | None] = []
    for i, c in enumerate(scored.candidates):
        if c.rank >= len(read):
            out.append(None)
            continue
        out.append(
            lexical(c, knobs)
            + knobs["semantic_weight"] * (c.cosine or 0.0)
            + knobs["lead_weight"] * scored.lead[i]
            + knobs["retrieval_weight"] * c.hit.score / top
            + knobs["neighbour_weight"] * scored.neighbour[i]
            + knobs["predicate_weight"] * (getattr(scored, "predicate", None) or [0.0] * (i + 1))[i]
            + knobs["pronoun_weight"] * max(0.0, before[i] - c.coverage)
            + knobs["support_weight"] * articles.count(c.hit.article.id) / len(read)
            - (penalty if c.span is None else knobs["misfit_share"] * penalty if misfit[i] else 0.0)
        )
    return out


def final(scored: Scored, knobs: dict[str, float]) -> list[float | None]:
    """``totals``, then the ``alone_top`` best re-ranked with ``alone_weight`` x their cosine
    encoded alone, ahead of the rest."""
    score = totals(scored, knobs)
    n = int(knobs["alone_top"])
    if not n:
        return score
    top = set(sorted((i for i, t in enumerate(score) if t is not None), key=lambda i: -(score[i] or 0.0))[:n])
    return [
        None if t is None else t + knobs["alone_weight"] * scored.alone.get(i, 0.0) if i in top else t - 1e3
        for i, t in enumerate(score)
    ]


def lexical(c: Candidate, knobs: dict[str, float], policy: AnswerPolicy = AnswerPolicy()) -> float:
    """The lexical score of ``c``; with a ``*_scale`` knob other than 1, its features re-weighted
    (as multiples of ``policy``'s weights: scored with the default policy)."""
    if all(knobs[k] == 1.0 for k in KNOBS[-5:]):
        return c.score
    return (
        knobs["coverage_scale"] * c.coverage
        + knobs["exact_scale"] * policy.exact_weight * c.exact
        + knobs["phrase_scale"] * policy.phrase_weight * c.phrase
        + knobs["typed_scale"] * c.typed
        + knobs["rank_scale"] * policy.rank_weight / (c.rank + 1)
    )


def best(scored: Scored, knobs: dict[str, float]) -> int | None:
    """Index of the best candidate under ``knobs``."""
    score = final(scored, knobs)
    return max((i for i, t in enumerate(score) if t is not None), key=lambda i: score[i] or 0.0, default=None)


def quoted(scored: Scored, knobs: dict[str, float], margin: float) -> list[int]:
    """The candidates the writer would quote under ``knobs`` (the best, or the newest and a
    rival among dated articles within ``margin``: ``recency.choose``), before any refusal."""
    score = final(scored, knobs)
    order = sorted((i for i, t in enumerate(score) if t is not None), key=lambda i: -(score[i] or 0.0))
    if not order:
        return []
    top = score[order[0]] or 0.0
    near = [i for i in order if (score[i] or 0.0) >= top - margin - 1e-9]
    rescored = [dataclasses.replace(scored.candidates[i], score=score[i]) for i in near]
    chosen = choose(rescored, scored.question, scored.kind, margin)
    picked = [chosen.best] + ([chosen.rival] if chosen.rival else [])
    return [next(near[j] for j, r in enumerate(rescored) if r is c) for c in picked]


def xquad_asks(path: Path) -> tuple[Dataset, list[Ask]]:
    indexed, held = split_holdout(load_squad(path), 5)

    def holds(answers: tuple[str, ...]) -> Callable[[str], bool]:
        gold = [f" {normalize_answer(a)} " for a in answers if normalize_answer(a)]
        return lambda s: any(g in f" {normalize_answer(s)} " for g in gold)

    asks: list[Ask] = [(q.text, True, holds(q.answers), None) for q in indexed.questions]
    return indexed, asks + [(q.text, False, holds(q.answers), None) for q in held]


def natural_asks(questions: list[dict], held: Collection[str]) -> list[Ask]:
    """The natural questions as asks: present when their article is indexed (not held out)."""
    return [
        (
            q["question"],
            bool(q["article_id"]) and q["article_id"] not in held,
            lambda s, a=q["answers"]: matches(a, s),
            q["article_id"],
        )
        for q in questions
    ]


def rates(results: list[Scored], knobs: dict[str, float], margin: float) -> dict[str, float]:
    """Per set of present questions: how often the best sentence holds the answer, how often a
    sentence the writer would quote does (``SET+quote``), and, for natural questions, how often
    the best sentence comes from the question's own article (``SET+article``)."""
    row: dict[str, float] = {}
    for name in sorted({r.set for r in results}):
        present = [r for r in results if r.set == name and r.present]
        firsts = [best(r, knobs) for r in present]
        row[name] = _share(i is not None and r.hit[i] for r, i in zip(present, firsts))
        row[f"{name}+quote"] = _share(any(r.hit[i] for i in quoted(r, knobs, margin)) for r in present)
        if any(r.article_id for r in present):
            own = (i is not None and r.candidates[i].hit.article.id == r.article_id for r, i in zip(present, firsts))
            row[f"{name}+article"] = _share(own)
    return row


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else 0.0


def parse_grid(items: list[str]) -> list[dict[str, float]]:
    values = {k: [DEFAULTS.get(k, 0.0)] for k in KNOBS}
    for item in items:
        name, text = item.split("=")
        values[name] = [float(v) for v in text.split(",")]
    return [dict(zip(KNOBS, combo, strict=True)) for combo in itertools.product(*(values[k] for k in KNOBS))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--xquad", type=Path)
    parser.add_argument("--xquad-cache", type=Path)
    parser.add_argument("--natural-cache", type=Path)
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/questions"))
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--index", type=Path, help="a data folder (the whole corpus) to ask natural questions in")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--encode-top", type=int, default=0, help="encode the N best sentences alone (alone_weight)")
    parser.add_argument("--grid", nargs="*", default=[])
    parser.add_argument("--choose", nargs="*", default=[])
    parser.add_argument("--dump", type=str)
    parser.add_argument("--sentence-vectors", default="pooled", help="how indexes built here make sentence vectors")
    parser.add_argument("--policy", nargs="*", default=[], help="AnswerPolicy fields the candidates are scored with")
    parser.add_argument("--save", type=Path, help="keep the scored candidates here (pickle) for --load")
    parser.add_argument("--load", type=Path, help="re-rank candidates kept by --save instead of searching")
    args = parser.parse_args()
    settings = EngineSettings(_env_file=None)
    encoder = load_encoder(settings)
    policy = parse_policy(args.policy)
    results: list[Scored] = []
    if args.load:
        results = pickle.loads(args.load.read_bytes())
    if args.xquad and not args.load:
        indexed, asks = xquad_asks(args.xquad)
        backend = LocalBackend(args.xquad_cache, probe_encoder=encoder)
        if not (args.xquad_cache / "CURRENT").exists():
            config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
            update_index(backend, Corpus(indexed.articles), encoder, config, sentence_vectors=args.sentence_vectors)
        snapshot = backend.open_snapshot()
        results += score_all(Retriever(snapshot, encoder), asks, "xquad", policy, args.encode_top)
    if args.natural_cache and not args.load:
        questions = [q for q in load_questions(args.questions) if q["split"] == args.split]
        backend, held = build(
            args.natural_cache, load_questions(args.questions), args.others, encoder, settings, args.sentence_vectors
        )
        asks = natural_asks(questions, held)
        results += score_all(
            Retriever(backend.open_snapshot(), encoder), asks, f"natural-{args.split}", policy, args.encode_top
        )
    if args.index and not args.load:
        questions = [q for q in load_questions(args.questions) if q["split"] == args.split]
        snapshot = LocalBackend(args.index, probe_encoder=encoder).open_snapshot()
        asks = natural_asks(questions, ())
        results += score_all(Retriever(snapshot, encoder), asks, f"whole-{args.split}", policy, args.encode_top)
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    for knobs in parse_grid(args.grid):
        print(json.dumps({**knobs, **rates(results, knobs, policy.recency_margin)}), flush=True)
    if args.dump:
        knobs = parse_grid(args.choose)[0]
        for name in sorted({r.set for r in results}):
            with open(f"{args.dump}-{name}.jsonl", "w") as out:
                for r in (r for r in results if r.set == name):
                    i = best(r, knobs)
                    signals = (
                        confidence_signals(r.candidates[i], r.hits, support(r, i))
                        if i is not None
                        else dict.fromkeys(CONFIDENCE_SIGNALS, 0.0)
                    )
                    row = {"set": name, "present": r.present, "hit": i is not None and r.hit[i], **signals}
                    row["unfilled"] = i is not None and is_unfilled(r.candidates[i], r.kind)
                    out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
