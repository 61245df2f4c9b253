# Two entry points for a fresh machine: `make demo` and `make test`. Both install what they need.
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed
# The suite runs in TEST_WORKERS pytest-xdist processes, each taking whole test files. Its budget is 20 minutes on
# two cores (the suite warns past it); `make test` fails past TEST_TIME_LIMIT_MINUTES (CI stops at 90). PYTEST_ARGS
# adds pytest options (e.g. "--durations=0 --junitxml=run.xml" for docs/testing.md's tables). Four workers on two
# cores: the suite mostly waits (job phases, polls, Airflow's scheduler); a 25-minute run used 13 CPU-minutes.
TEST_WORKERS            ?= 4
TEST_TIME_LIMIT_MINUTES ?= 60
PYTEST_ARGS             ?=
# The oldest Airflow the provider supports (pyproject.toml: apache-airflow>=3.3.0). 3.3.0 is the first release with
# context["task_state_store"] (exactly-once resume), BaseTrigger.on_kill (cancel a job when its deferred task is
# killed) and the triggers' shared streams; 3.2's BaseTrigger has cleanup() only (docs/airflow-versions.md).
# `make test-floor` runs FLOOR_TESTS — the operators, sensors and triggers through dag.test(), the triggers' shared
# streams against the emulator, and the shipped DAGs' resume and deferral — in .venv-floor with exactly that Airflow; `make test` runs it after the suite.
AIRFLOW_FLOOR  := 3.3.0
FLOOR_PINS     := apache-airflow==$(AIRFLOW_FLOOR) apache-airflow-core==$(AIRFLOW_FLOOR) apache-airflow-task-sdk==1.3.0
FLOOR_VENV     := .venv-floor
FLOOR_PY       := $(FLOOR_VENV)/bin/python
FLOOR_STAMP    := $(FLOOR_VENV)/.installed
FLOOR_TESTS    ?= tests/operators tests/triggers tests/dags/test_sr_full_backup.py tests/dags/test_sr_restore.py

.PHONY: install tools demo demo-ui test test-floor lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(UV) pip install --quiet --python $(PY) -e '.[all,test]'
	touch $(STAMP)

install: $(STAMP)

$(FLOOR_STAMP): pyproject.toml $(STAMP)
	test -x $(FLOOR_PY) || python3 -m venv $(FLOOR_VENV)
	$(UV) pip install --quiet --python $(FLOOR_PY) -e '.[all,test]' $(FLOOR_PINS)
	touch $(FLOOR_STAMP)

# Debian packages the tests drive: the mysql command-line client (client compatibility of the emulator),
# Chromium with its driver (the Airflow UI's trigger form, end to end), and Redis and PostgreSQL (the broker and
# metadata database of the distributed Airflow in tests/distributed; the tests start their own on 127.0.0.1).
tools:
	@command -v mysql >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v redis-server \
	  >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
	  apt-get install -y -qq default-mysql-client chromium chromium-driver redis-server postgresql >/dev/null; }

demo: $(STAMP)
	$(PY) -m sr_airflow.testing.demo

# The demo, then everything kept up with airflow standalone and the backups page until Ctrl-C (prints URL and login).
demo-ui: $(STAMP)
	$(PY) -m sr_airflow.testing.demo --serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The suite's processes write .pyc files even where PYTHONDONTWRITEBYTECODE is set: each of the many processes it
# starts (emulators, Airflow, moto) would otherwise compile what it imports from source, seconds each for Airflow.
test: $(STAMP) tools
	$(VENV)/bin/ruff check .
	env -u PYTHONDONTWRITEBYTECODE timeout --kill-after=60 $$(( $(TEST_TIME_LIMIT_MINUTES) * 60 )) \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 124 ]; then echo "make test: the suite ran past TEST_TIME_LIMIT_MINUTES=$(TEST_TIME_LIMIT_MINUTES)" \
	    "minutes and was stopped (its budget is 20 minutes: see docs/testing.md)." >&2; fi; exit $$rc
	$(MAKE) --no-print-directory test-floor

# The operator and DAG tests on the oldest supported Airflow (AIRFLOW_FLOOR), in a venv of their own.
test-floor: $(FLOOR_STAMP) tools
	$(FLOOR_PY) -c "import airflow, sys; sys.exit(airflow.__version__ != '$(AIRFLOW_FLOOR)' and \
	  'test-floor: .venv-floor has Airflow ' + airflow.__version__ + ', not $(AIRFLOW_FLOOR)')"
	env -u PYTHONDONTWRITEBYTECODE timeout --kill-after=60 $$(( $(TEST_TIME_LIMIT_MINUTES) * 60 )) \
	  $(FLOOR_PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS) $(FLOOR_TESTS)

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(FLOOR_VENV) build *.egg-info
