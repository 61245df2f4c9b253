# Two entry points for a fresh machine: `make demo` and `make test`. Both install what they need.
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed

.PHONY: install tools demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(UV) pip install --quiet --python $(PY) -e '.[all,test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests drive: the mysql command-line client (client compatibility of the emulator) and
# Chromium with its driver (the Airflow UI's trigger form, end to end).
tools:
	@command -v mysql >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { apt-get update -qq && \
	  apt-get install -y -qq default-mysql-client chromium chromium-driver >/dev/null; }

demo: $(STAMP)
	$(PY) -m sr_airflow.testing.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) tools
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
