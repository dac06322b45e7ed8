"""Limits and word lists shared by retrieval, answering and the Discord layer."""

from __future__ import annotations

# The longest question (or search) accepted, in characters. Discord's /ask option, query
# cleaning and a follow-up's borrowed topic words all keep to this one number.
MAX_QUESTION_CHARS = 2_000

# -- The one base list of words that say nothing about a topic ---------------------------------
# Answering uses three stop-word sets, built from these groups rather than kept as three
# free-standing lists. They still differ, because each serves its own purpose (and each was
# measured as it is, so merging them would change answers):
#   * evidence._QUESTION_WORDS: the words a question is built with, dropped from its weighted
#     terms (bm25s's own stop words are only 33 and keep these);
#   * questions._WH_AND_FILLER: everything stripped from a question to leave its topic words,
#     so function words and "held", "take place" too;
#   * span_patterns._NOT_NAMES: capitalised words that open a sentence but start no name ("During",
#     "However", "Today").
# The auxiliaries come in groups because the sets take different ones (see each set).

# Question words: "who" asks for a name, it is never part of the topic.
WH_WORDS = frozenset("when where who whom whose what which why how".split())
# "How much", "how many".
QUANTITY_WORDS = frozenset({"much", "many"})
COPULAS = frozenset("is are was were be been".split())
DO_FORMS = frozenset("do does did".split())
HAVE_FORMS = frozenset("has have had".split())
MODALS = frozenset("will would can could should".split())
# Articles, demonstratives, third-person pronouns and the commonest prepositions: the words
# both the topic stripper and the name cleaner drop.
FUNCTION_WORDS = frozenset(
    "the a an this that these those it its he she they their his her there in on at for and also".split()
)
