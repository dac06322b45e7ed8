"""Evaluation on natural questions about dated news articles (see docs/EVALUATION.md,
"Natural questions"): the question files, the corpora and indexes they are asked over, and the
scores."""
