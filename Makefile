# newsbot: `make run` starts the bot, `make test` runs the tests. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: install run index test lint bench preview clean

install: $(STAMP)

# Re-install only when the dependency list or the constraints change: a second run is instant.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/newsbot index

# The Discord bot when a token is configured (environment or .env), else the terminal chat.
run: index
	@if [ -n "$$DISCORD_TOKEN" ] || grep -Eqs '^[[:space:]]*(export[[:space:]]+)?DISCORD_TOKEN=[^[:space:]#]' .env; then \
		$(BIN)/newsbot serve; \
	else \
		$(BIN)/newsbot chat; \
	fi

test: install
	$(BIN)/python -m pytest -q

# Style and types: ruff's lint rules and formatting on the whole tree, mypy on the engine.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Performance benchmarks (needs ../shared): prints every number with its target; see docs/BENCHMARKS.md.
bench: install
	$(BIN)/python -m benchmarks.run

# docs/discord-preview.png: the bot's real answers from the fake Discord, drawn by headless Chromium.
preview: install
	$(BIN)/python docs/discord_preview.py

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
