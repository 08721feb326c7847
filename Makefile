# gpmc: MPI-parallel Monte Carlo verification of generative-prior random-matrix conditions.
# `make demo` and `make check` are the two commands a new user needs (see README.md).

PKGS      := gsl hdf5 fftw3 openblas lapacke inih ompi-c
# Debian packages behind PKGS, the tests and the analysis tools.
DEB_PKGS  := build-essential pkg-config libopenmpi-dev openmpi-bin libgsl-dev libhdf5-dev \
             hdf5-tools libfftw3-dev libopenblas-dev liblapacke-dev librandom123-dev \
             libinih-dev libcmocka-dev python3-h5py python3-numpy python3-matplotlib \
             python3-pytest python3-scipy
BENCH_DEB := python3-torch

CC        ?= gcc
PREFIX    ?= /usr/local
BUILD     ?= build
OPT       ?= -O2
SANITIZE  ?=
NP        ?= $(shell nproc 2>/dev/null || echo 2)

# The first python3 that imports h5py (Debian's), else /usr/bin/python3.
PYTHON ?= $(shell for p in python3 /usr/bin/python3; do \
            $$p -c 'import h5py' >/dev/null 2>&1 && { command -v $$p; exit 0; }; done; \
            echo /usr/bin/python3)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# GSL's CBLAS symbols come from OpenBLAS, not libgslcblas.
PKG_LIBS   := $(filter-out -lgslcblas,$(shell pkg-config --libs $(PKGS) 2>/dev/null))

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
VERSION    := 0.1.0

CFLAGS_ALL = -std=c11 -Wall -Wextra -Werror $(OPT) -g -D_POSIX_C_SOURCE=200809L \
             -Iinclude $(PKG_CFLAGS) $(SANITIZE) $(CFLAGS)
LDLIBS_ALL = $(SANITIZE) $(PKG_LIBS) -lm $(LDFLAGS)

LIB_SRC  := $(wildcard src/numerics/*.c src/experiments/*.c) \
            $(filter-out src/driver/main.c,$(wildcard src/driver/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/version.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
export OMP_NUM_THREADS=1

.PHONY: FORCE all deps bench-deps demo check check-asan check-slurm bench install clean tests

all: $(BUILD)/gpmc

$(BUILD)/obj/%.o: %.c $(wildcard include/gpmc/*.h) $(wildcard src/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Rewritten only when its text changes, so a new commit relinks without a full rebuild.
$(BUILD)/version.c: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' 'const char gpmc_version[] = "$(VERSION)";' \
	  'const char gpmc_git_commit[] = "$(GIT_COMMIT)";' \
	  'const char gpmc_cflags[] = "$(OPT) $(SANITIZE)";' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

$(BUILD)/obj/version.o: $(BUILD)/version.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

FORCE:

$(BUILD)/libgpmc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/gpmc: $(BUILD)/obj/src/driver/main.o $(BUILD)/libgpmc.a
	$(CC) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libgpmc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(BUILD)/libgpmc.a -o $@ $(LDLIBS_ALL) -lcmocka

$(BUILD)/bench/%: tests/bench/%.c $(wildcard tests/bench/*.h) $(BUILD)/libgpmc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(BUILD)/libgpmc.a -o $@ $(LDLIBS_ALL)

tests: $(BUILD)/gpmc $(UNIT_BIN)

# Install only what is missing; as non-root, print the exact command instead.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing$$(echo $$missing | sed 's/^/ /')"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $$missing; \
	else echo "deps: missing packages; run:"; \
	    echo "  sudo apt-get install -y $$(echo $$missing)"; exit 1; fi

# python3-torch for the benchmark peer (after deps); as non-root, print the command.
bench-deps: deps
	@if dpkg-query -W -f='$${Status}\n' $(BENCH_DEB) 2>/dev/null | grep -q 'install ok installed'; \
	then echo "bench-deps: $(BENCH_DEB) present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "bench-deps: installing $(BENCH_DEB)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $(BENCH_DEB); \
	else echo "bench-deps: missing packages; run:"; \
	    echo "  sudo apt-get install -y $(BENCH_DEB)"; exit 1; fi

demo: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p results
	mpirun --oversubscribe -np $(NP) $(BUILD)/gpmc run jobs/specs/demo.ini -o results/demo.h5 --force
	$(BUILD)/gpmc info results/demo.h5
	@if [ -f analysis/table.py ]; then \
	  $(PYTHON) analysis/table.py results/demo.h5 --format markdown -o results/demo.md && \
	  $(PYTHON) analysis/plot.py results/demo.h5 -o results/demo.png && \
	  echo "demo: wrote results/demo.h5, results/demo.md, results/demo.png"; fi

CHECK_SLURM ?= 0
check: tests
	@BUILD=$(BUILD) PYTHON=$(PYTHON) GPMC_CHECK_SLURM=$(CHECK_SLURM) sh tests/run_all.sh

# Same suites under AddressSanitizer and UBSan, in a separate build tree.
check-asan:
	@$(MAKE) --no-print-directory tests BUILD=build-asan OPT=-O1 \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	@# Open MPI's components lack frame pointers: the slow unwinder lets the suppressions
	@# (tests/lsan.supp) match its by-design leaks, while ours are still reported.
	@# intercept_tls_get_addr=0: GCC 12's LeakSanitizer misreads the TLS blocks of the
	@# components Open MPI dlopens ("Tracer caught signal 11" at exit on a fresh machine);
	@# our own leaks are still reported (checked with injected leaks).
	@BUILD=build-asan PYTHON=$(PYTHON) OMPI_MCA_mca_base_component_disable_dlclose=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0:intercept_tls_get_addr=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run_all.sh

# The SLURM workflow (jobs/*.sbatch, jobs/submit.sh) against a real single-node SLURM that
# the test starts in a scratch dir (installs slurmctld slurmd slurm-client munge if missing,
# as root); ~1 minute. GPMC_SLURM_TIMELIMIT=1 adds a real time-limit preemption (~2.5 min).
# `make check CHECK_SLURM=1` (what CI runs) includes it in the one summary line.
check-slurm: all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/slurm/run.sh

# Installs the bench dependencies as `make demo` does its own; a peer that still cannot run
# is reported as `peer: SKIPPED (why)` and the exit status stays 0.
bench:
	@$(MAKE) --no-print-directory bench-deps || \
	  echo "bench: continuing without them: the PyTorch peer will be SKIPPED"
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/bench/run_bench.sh

# PREFIX/bin: gpmc, and the analysis as the commands gpmc-table and gpmc-plot, which run
# PREFIX/share/gpmc/analysis/{table,plot}.py (found from their own path) under the Python
# that imports h5py, resolved now ($(PYTHON)).
ANALYSIS_CMDS := table plot

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/gpmc/specs $(DESTDIR)$(PREFIX)/share/gpmc/analysis
	install -m 755 $(BUILD)/gpmc $(DESTDIR)$(PREFIX)/bin/gpmc
	install -m 644 jobs/specs/*.ini $(DESTDIR)$(PREFIX)/share/gpmc/specs/
	install -m 644 analysis/*.py $(DESTDIR)$(PREFIX)/share/gpmc/analysis/
	@py=$$(command -v $(PYTHON)) || { echo "install: no Python '$(PYTHON)' (PYTHON=...)" >&2; exit 1; }; \
	"$$py" -c 'import h5py, numpy, matplotlib' 2>/dev/null || echo "install: warning: $$py" \
	  "cannot import h5py, numpy and matplotlib, which gpmc-table and gpmc-plot need" \
	  "(make deps installs them)" >&2; \
	for c in $(ANALYSIS_CMDS); do \
	  f=$(DESTDIR)$(PREFIX)/bin/gpmc-$$c; \
	  printf '%s\n' "#!$$py" "# gpmc-$$c: gpmc's analysis/$$c.py as a command (make install)." \
	    "import sys" "from pathlib import Path" \
	    "sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'share/gpmc/analysis'))" \
	    "import $$c  # noqa: E402" "" "$$c.main()" >"$$f.tmp" && chmod 755 "$$f.tmp" && \
	  mv "$$f.tmp" "$$f" && echo "install: $$f ($$py)" || exit 1; \
	done

clean:
	rm -rf build build-asan

# ---- make fuzz: libFuzzer harnesses (tests/fuzz/), not part of check or CI ----
# `make fuzz [FUZZ_SECONDS=60] [FUZZ_HARNESS=fuzz_spec] [FUZZ_ARGS='-fork=2 ...']` builds
# the library and tests/fuzz/fuzz_*.c with clang under libFuzzer + ASan + UBSan in
# $(FUZZ_BUILD)/, replays tests/fuzz/crashes/, runs each harness FUZZ_SECONDS from the seeds
# in tests/fuzz/corpus/<harness>/ and prints executions, coverage and crashes per harness;
# non-zero exit on a crash. Details: tests/fuzz/run_fuzz.sh. `make fuzz-clean` removes it.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_HARNESS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_HARNESS:%=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/version.o
# Library sources without -Werror: clang-only warnings there must not stop the fuzzing.
FUZZ_LIB_CFLAGS = -std=c11 -Wall -Wextra -O1 -g -D_POSIX_C_SOURCE=200809L -Iinclude \
                  $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link

.PHONY: fuzz fuzz-build fuzz-cc fuzz-clean

# (Not defined in the sub-make that writes $(FUZZ_BUILD)/version.c with BUILD=$(FUZZ_BUILD).)
ifneq ($(BUILD),$(FUZZ_BUILD))
fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_ARGS="$(FUZZ_ARGS)" \
	  sh tests/fuzz/run_fuzz.sh $(FUZZ_HARNESS)

fuzz-build: $(FUZZ_BIN)

fuzz-cc:
	@$(FUZZ_CC) --version >/dev/null 2>&1 || { echo "fuzz: no $(FUZZ_CC); on Debian:" \
	  "apt-get install -y clang libclang-rt-14-dev"; exit 1; }

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

$(FUZZ_LIB_OBJ): | fuzz-cc

$(FUZZ_BUILD)/version.c: FORCE
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) OPT=-O1 SANITIZE="$(FUZZ_SAN) -fsanitize=fuzzer" $@

$(FUZZ_BUILD)/obj/version.o: $(FUZZ_BUILD)/version.c
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/obj/%.o: %.c $(wildcard include/gpmc/*.h) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libgpmc.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libgpmc.a
	$(FUZZ_CC) -std=c11 -Wall -Wextra -Werror -O1 -g -D_POSIX_C_SOURCE=200809L -Iinclude \
	  $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_BUILD)/libgpmc.a -o $@ \
	  $(PKG_LIBS) -lm
endif
