"""Natural questions over the Wikinews corpus (JSON Lines, article ids and answer regexes only) and their checker."""
