"""Where chunks are kept and searched: the ``SearchBackend`` seam (``backend``), its local
implementation over index generations on disk (``generations``, ``store``, ``vectors``,
``lexical``), and incremental updates (``indexer``)."""
