"""From files to chunks: reading the seeds folder (``corpus``, ``formats``), sentence
boundaries (``sentences``) and windows of whole sentences in the model's word pieces
(``chunking``)."""
