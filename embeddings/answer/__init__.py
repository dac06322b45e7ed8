"""From passages to an answer: reading the question (``questions``), choosing the evidence
sentence (``evidence``), cutting the short answer (``spans``, ``dates``) and writing the
``Answer`` or the refusal (``writer``)."""
