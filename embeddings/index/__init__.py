"""Where chunks are kept and searched: the ``SearchBackend`` seam (``backend``), the backend the
settings choose (``factory``), its local implementation over index generations on disk
(``local``, which alone writes and loads them, on ``generations``, ``store``, ``vectors`` and
``lexical``), and incremental updates through any backend (``indexer``)."""
