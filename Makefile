# gort: the Go runtime for C programs.
#
#   make                  build/libgort.a, build/libgort.so, the examples and build/gort-trace
#   make test             build and run the test suite
#   make bench            gort against its Go twins, side by side
#   make demo             build and run the demo
#   make install PREFIX=/some/dir
#
# Configurations build side by side:
#   make SAN=asan test    AddressSanitizer + UndefinedBehaviorSanitizer (build/asan)
#   make SAN=tsan test    ThreadSanitizer (build/tsan)
#   make DEBUG=1 test     invariant checks on (build/debug)

CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0
SAN     ?=
DEBUG   ?=

OPT      := -O2
SANFLAGS :=
LIBSAN   :=
BUILD    := build
ifeq ($(SAN),asan)
  BUILD    := build/asan
  OPT      := -O1
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  DEBUG    := 1
else ifeq ($(SAN),tsan)
  BUILD    := build/tsan
  OPT      := -O1
  SANFLAGS := -fsanitize=thread
  # the runtime abandons frames at every switch (src/san.h); TSan does not
  # model the one fence (runqput), which orders for x86, not for it
  LIBSAN   := --param=tsan-instrument-func-entry-exit=0 -Wno-tsan
  DEBUG    := 1
else ifneq ($(SAN),)
  $(error SAN must be asan or tsan)
else ifeq ($(DEBUG),1)
  BUILD    := build/debug
endif

# Valgrind's client requests, when its header is there (a check at stack
# allocation; free otherwise).
VALGRIND_CFLAGS := $(shell pkg-config --exists valgrind 2>/dev/null && echo -DGORT_VALGRIND $$(pkg-config --cflags valgrind))

CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
# Tracebacks unwind with libunwind and symbolize with elfutils' libdw.
DEPS     := libunwind libdw
DEPFLAGS := $(shell pkg-config --cflags $(DEPS))
DEPLIBS  := $(shell pkg-config --libs $(DEPS))
# All of the runtime's code stays in .text, between its markers
# (src/runtime_text.S): no hot/cold splitting into other sections.
# Functions start on cache lines: the switch and defer paths are a few
# short functions, and where a change elsewhere shifted them across line
# boundaries, benchmarks moved by 10% with no change of their own.
LIBFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden -fno-strict-aliasing \
            -fno-reorder-blocks-and-partition -fno-reorder-functions -falign-functions=64 \
            -fstack-clash-protection -Iinclude -Isrc $(DEPFLAGS) $(SANFLAGS) $(LIBSAN) $(VALGRIND_CFLAGS) \
            $(if $(filter 1,$(DEBUG)),-DGORT_DEBUG_BUILD)
LDLIBS   := $(DEPLIBS) -lpthread

SRCS := src/proc.c src/stack.c src/panic.c src/print.c src/traceback.c src/chan.c src/select.c \
        src/sema.c src/sync.c src/time.c src/lock_futex.c src/os_linux.c src/signal_unix.c \
        src/runtime1.c src/trace.c src/netpoll.c
ASMS := src/arch/amd64.S
OBJS := $(BUILD)/obj/text.o $(SRCS:src/%.c=$(BUILD)/obj/%.o) $(ASMS:src/%.S=$(BUILD)/obj/%.o) \
        $(BUILD)/obj/etext.o

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

# examples/httpd.c parses HTTP with libhttp-parser.  Debian's package has
# no .pc file, so when pkg-config does not know it the library is looked
# for by its header; without it, httpd is left out.
HTTP_PARSER := $(shell pkg-config --cflags --libs http-parser 2>/dev/null || \
                 ($(CC) -E -include http_parser.h -x c /dev/null >/dev/null 2>&1 && echo -lhttp_parser))
ifeq ($(HTTP_PARSER),)
  $(warning examples/httpd.c needs libhttp-parser (scripts/deps.sh demo installs it): not built)
  EXAMPLES := $(filter-out $(BUILD)/examples/httpd,$(EXAMPLES))
endif

all: $(BUILD)/libgort.a $(BUILD)/libgort.so $(EXAMPLES) $(BUILD)/gort-trace

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h src/arch/*.h) include/gort.h
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.S src/arch/asm_amd64.h
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/text.o: src/runtime_text.S
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) -c -o $@ $<

$(BUILD)/obj/etext.o: src/runtime_text.S
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAGS) -DETEXT -c -o $@ $<

# The runtime is linked as one relocatable object, its code in one .text
# between the markers; every library is made from it.
$(BUILD)/gort_internal.o: $(OBJS)
	ld -r -o $@ $^

# The internal archive keeps every symbol visible: the tests reach inside.
$(BUILD)/libgort_internal.a: $(BUILD)/gort_internal.o
	@rm -f $@
	ar rcs $@ $^

# The static library's hidden symbols are made local, so that internal
# names (schedule, gopark...) cannot clash with a program's own: only the
# gort_ API is left global.
$(BUILD)/libgort.a: $(BUILD)/gort_internal.o
	objcopy --localize-hidden $< $(BUILD)/gort.o
	@rm -f $@
	ar rcs $@ $(BUILD)/gort.o

$(BUILD)/libgort.so: $(BUILD)/gort_internal.o
	$(CC) -shared -Wl,-soname,libgort.so.0 -Wl,--no-undefined $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(BUILD)/libgort.a
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -Iinclude $(SANFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libgort.a $(LDLIBS)

$(BUILD)/examples/httpd: private LDLIBS += $(HTTP_PARSER)

# ------------------------------------------------------------------ tools

# The execution-trace reader stands alone: C and libc, no runtime.
$(BUILD)/gort-trace: tools/gort-trace.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) $(SANFLAGS) $(CFLAGS) -o $@ $< -lm

# ------------------------------------------------------------------ tests

TEST_SRCS   := $(filter-out tests/testprog.c tests/tsan_boxfort.c,$(wildcard tests/*.c)) tests/abi_amd64.S \
               $(if $(filter tsan,$(SAN)),tests/tsan_boxfort.c)
TEST_FLAGS  := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Isrc $(SANFLAGS) $(VALGRIND_CFLAGS) \
               $(if $(filter 1,$(DEBUG)),-DGORT_DEBUG_BUILD) $(shell pkg-config --cflags criterion 2>/dev/null)
TEST_LIBS   := $(BUILD)/libgort_internal.a $(shell pkg-config --libs criterion 2>/dev/null) $(LDLIBS) -lm

$(BUILD)/tests/gort-tests: $(TEST_SRCS) tests/testutil.h $(BUILD)/libgort_internal.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_FLAGS) $(CFLAGS) -o $@ $(TEST_SRCS) $(TEST_LIBS)

$(BUILD)/tests/testprog: tests/testprog.c tests/testutil.h $(BUILD)/libgort_internal.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_FLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libgort_internal.a $(LDLIBS)

# Sanitizer settings for the test runs: stop at the first report; the
# test runner's own allocations are not ours to report (tests/lsan.supp).
ifeq ($(SAN),asan)
  TEST_ENV := ASAN_OPTIONS=detect_stack_use_after_return=1:halt_on_error=1:abort_on_error=1 \
              LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
              UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
else ifeq ($(SAN),tsan)
  TEST_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
endif

# Criterion's per-test timeout cannot end a test whose threads all sleep
# (a lost wakeup): the whole run has a limit of its own.
TEST_JOBS ?= 2
TEST_TIMEOUT ?= 1500
test: all $(BUILD)/tests/gort-tests $(BUILD)/tests/testprog
	$(TEST_ENV) GORT_BUILD=$(BUILD) timeout $(TEST_TIMEOUT) $(BUILD)/tests/gort-tests --jobs $(TEST_JOBS) $(TEST_ARGS)

# Valgrind's memcheck over the core tests (the crash and build tests run
# other programs).  Threads still running at exit keep their TLS blocks,
# which memcheck calls "possibly lost": only definite leaks count.
VALGRIND_TESTS ?= proc/* stack/* abi/* runq/* defer/* chan/*
valgrind: all $(BUILD)/tests/gort-tests $(BUILD)/tests/testprog
	for t in $(VALGRIND_TESTS); do \
	  GORT_BUILD=$(BUILD) timeout $(TEST_TIMEOUT) valgrind -q --trace-children=yes --error-exitcode=9 --fair-sched=yes \
	    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	    --suppressions=tests/valgrind.supp $(BUILD)/tests/gort-tests --jobs $(TEST_JOBS) --filter "$$t" || exit 1; \
	done

# ---------------------------------------------------------------- bench

bench: $(BUILD)/libgort.a
	bench/run.sh $(BUILD)

# ----------------------------------------------------------------- demo

demo: $(EXAMPLES)
	$(BUILD)/examples/hello
	@echo
	$(BUILD)/examples/skynet
	@echo
	$(BUILD)/examples/primes
	@echo
	$(BUILD)/examples/workers

# -------------------------------------------------------------- install

install: $(BUILD)/libgort.a $(BUILD)/libgort.so $(BUILD)/gort-trace
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/share/gort
	install -m 644 include/gort.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 tools/gort-gdb.py $(DESTDIR)$(PREFIX)/share/gort/
	install -m 755 $(BUILD)/gort-trace $(DESTDIR)$(PREFIX)/bin/gort-trace
	install -m 644 $(BUILD)/libgort.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libgort.so $(DESTDIR)$(PREFIX)/lib/libgort.so.0
	ln -sf libgort.so.0 $(DESTDIR)$(PREFIX)/lib/libgort.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' gort.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gort.pc

clean:
	rm -rf build

.PHONY: all test valgrind bench demo install clean
