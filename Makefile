# The two commands of the README: `make up` (set up + run everything) and `make test` (set up + test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch is installed first, pinned, so no dependency pulls a multi-GB CUDA build.
# Set TORCH_INDEX to a CPU wheel index where no local torch 2.13.0 wheel is at hand.
TORCH_ARGS := torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))

.PHONY: setup system up test eval bench clean constraints fuzz chaos load

setup: system $(STAMP)

system:
	@PYTHON=$(PYTHON) scripts/install-system.sh

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q $(TORCH_ARGS)
	$(BIN)/pip install -q -c constraints.txt -e '.[all,test]'
	touch $(STAMP)

# Re-pin every dependency to what the venv holds now (after changing pyproject.toml).
constraints: $(STAMP)
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i -E '^(torch)==|^-e|^#'; } > constraints.tmp
	mv constraints.tmp constraints.txt

up: setup
	$(BIN)/malgeul up

test: setup
	PYTHON=$(BIN)/python scripts/run-tests.sh $(PYTEST_ARGS)

eval: setup
	$(BIN)/malgeul eval faq && $(BIN)/malgeul eval ocr && $(BIN)/malgeul eval sql && \
	$(BIN)/malgeul eval speech && $(BIN)/malgeul eval conversation

# Hardening (docs/reliability.md): each runs the real services on loopback, bounded in count and time.
fuzz: setup
	$(BIN)/python -m reliability.fuzz $(ARGS)

chaos: setup
	$(BIN)/python -m reliability.chaos $(ARGS)

load: setup
	$(BIN)/python -m reliability.load $(ARGS)

clean:
	rm -rf $(VENV) var test-artifacts
