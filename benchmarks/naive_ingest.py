"""The naive baseline of ``newsbot index``: what a short script does with sentence-transformers.

    python -m benchmarks.naive_ingest SEEDS_DIR OUT_DIR [--words 200] [--batch-size 32]

It reads every ``.txt`` (title on the first line) and ``.jsonl`` (``title`` and ``text``) file
of SEEDS_DIR, cuts each article into windows of 200 words, embeds them with the default model on
torch fp32 (sentence-transformers' own ``encode``) and writes a FAISS inner-product index and
the window texts to OUT_DIR. No sentence boundaries, no hybrid search, no crash safety: only
the work every index of these articles needs, done the obvious way. ``benchmarks.index_vs_naive``
times it against ``newsbot index`` of the same folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def read_articles(seeds: Path) -> list[tuple[str, str]]:
    """(title, text) of every article in ``seeds``, files in sorted order."""
    articles = []
    for path in sorted(seeds.iterdir()):
        if path.suffix == ".txt":
            title, _, text = path.read_text(encoding="utf-8").partition("\n")
            articles.append((title.strip(), text))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    articles.append((row["title"], row["text"]))
    return articles


def windows(title: str, text: str, words: int) -> list[str]:
    """Consecutive windows of ``words`` words, each prefixed with the title."""
    tokens = text.split()
    return [f"{title}\n{' '.join(tokens[i : i + words])}" for i in range(0, len(tokens), words)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import faiss
    from sentence_transformers import SentenceTransformer

    from embeddings.encoders.sentence_transformer import resolve_model
    from embeddings.settings import DEFAULT_MODEL

    texts = [w for title, text in read_articles(args.seeds) for w in windows(title, text, args.words)]
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    vectors = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    args.out.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(args.out / "vectors.faiss"))
    (args.out / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    print(json.dumps({"windows": len(texts), "dimension": int(vectors.shape[1])}))


if __name__ == "__main__":
    main()
