"""The PostgreSQL + pgvector search backend: one database shared by any number of processes on
any number of machines. ``NEWSBOT_DATABASE_URL`` selects it (see ``embeddings.index.factory``).

- ``connection``: the pool, timeouts, the masked URL and the translation of database faults into
  ``NewsbotError`` messages;
- ``schema``: the tables and indexes, and how generations are told apart;
- ``lexicon``: BM25 as pgvector ``sparsevec`` (the document side's weights, the query side's idf)
  and the ``TermAnalyzer`` of a generation;
- ``snapshot``: one generation for reading; ``writer``: the next one, in one transaction;
- ``backend``: ``PostgresBackend``, the ``SearchBackend`` tying them together;
- ``feedback``: ``PostgresFeedbackStore``, the bot's feedback in the same database (chosen by
  ``embeddings.feedback.open_feedback_store``).
"""

from embeddings.index.pg.backend import PostgresBackend
from embeddings.index.pg.connection import mask_url

__all__ = ["PostgresBackend", "mask_url"]
