# twiliocore: `make run` and `make test` are all a newcomer needs (see README.md).
# Both set up what is missing first (scripts/setup.sh) and are safe to run again.

VENV    := .venv
PY      := $(VENV)/bin/python
CMAKE   := $(VENV)/bin/cmake
CTEST   := $(VENV)/bin/ctest
JOBS    ?= $(shell nproc)
# Builds from several shells at once queue up on this lock instead of racing.
LOCK    := flock build/.lock

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all setup build dist test test-cpp test-asan test-tsan test-python lint run emulator bench bench-service clean

all: build

setup:
	@scripts/setup.sh
	@mkdir -p build

## Installs the package into the virtualenv as a user's pip install does (not editable, so
## tests and benchmarks run what users get); the C++ build in build/py is incremental.
build: setup
	@$(LOCK) $(PY) -m pip install -q --no-build-isolation --no-deps \
		-Cbuild-dir=build/py -Ccmake.define.TWILIOCORE_WERROR=ON .

## Everything CI runs: C++ tests (plain, under ASan+UBSan, and the threaded suites under TSan),
## Python tests, lint.
test: build test-cpp test-asan test-tsan test-python lint

## The C++ builds are the presets of CMakePresets.json (flags and build directories live there).
test-cpp: setup
	@$(LOCK) $(CMAKE) --preset default >/dev/null
	@$(LOCK) $(CMAKE) --build --preset default -j $(JOBS)
	@$(CTEST) --preset default -j $(JOBS)

test-asan: setup
	@$(LOCK) $(CMAKE) --preset asan >/dev/null
	@$(LOCK) $(CMAKE) --build --preset asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CTEST) --preset asan -j $(JOBS)

## The engine and fan-out suites under ThreadSanitizer (TSAN_OPTIONS in the preset).
test-tsan: setup
	@$(LOCK) $(CMAKE) --preset tsan >/dev/null
	@$(LOCK) $(CMAKE) --build --preset tsan -j $(JOBS)
	@$(CTEST) --preset tsan -j $(JOBS)

test-python: build
	@$(PY) -m pytest

## ruff over every Python tree; mypy over the packages; the _core stubs checked against the module.
lint: build
	@$(VENV)/bin/ruff check python api tests bench scripts
	@$(VENV)/bin/ruff format --check python api tests bench scripts
	@$(VENV)/bin/mypy python/twiliocore api/twiliocore_api
	@$(PY) -m mypy.stubtest twiliocore._core --allowlist python/stubtest-allowlist.txt

## The service in mock mode on http://127.0.0.1:8000 (SQLite, bundled emulator).
run: build
	@$(PY) -m twiliocore serve --host 127.0.0.1 --port 8000

## The Twilio emulator alone on http://127.0.0.1:8081.
emulator: build
	@$(PY) -m twiliocore emulator --port 8081

bench: build
	@$(PY) bench/run_all.py --n 20000 --repeat 5

## The REST service under load against a reference FastAPI + twilio-python app, SQLite and
## PostgreSQL, every target a ratio measured in the same run (docs/benchmarks.md, "The service
## under load"); about 5 minutes. `$(PY) bench/service.py --quick` is a smoke run.
bench-service: build
	@$(PY) bench/service.py

## A self-contained wheel in dist/ for machines without the Debian -dev packages: built in
## build/dist (incremental), its libraries bundled and their licences added (scripts/dist.py).
dist: setup
	@rm -rf build/wheelhouse
	@$(LOCK) env CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PY) -m pip wheel -q --no-deps \
		--no-build-isolation -Cbuild-dir=build/dist -w build/wheelhouse .
	@$(PY) scripts/dist.py build/wheelhouse/twiliocore-*.whl dist

clean:
	rm -rf build _skbuild
