# postern - a sendmail-compatible mail sender.
#
# make            build build/postern
# make check      unit tests (Criterion) and integration tests (the real world, tests/integration)
# make unit       unit tests only          make asan    unit tests under ASan+UBSan
# make fuzz       libFuzzer targets        make lint    banned functions, bare exit codes
# make demo       the main job end to end on a private spool (see README)
# make install    DESTDIR, PREFIX, SYSCONFDIR, SPOOLDIR honoured; make uninstall reverses it

PREFIX     ?= /usr
SYSCONFDIR ?= /etc
SPOOLDIR   ?= /var/spool/postern
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/postern
DESTDIR    ?=

BUILD ?= build
CC    ?= cc

PKGS      := openssl libbsd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual \
          -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
SANFLAGS ?=
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -I. \
              -DSYSCONFDIR='"$(SYSCONFDIR)"' -DSPOOLDIR='"$(SPOOLDIR)"'
LDFLAGS ?=
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lresolv -pthread
# OPENSSL=static links libssl.a and libcrypto.a: a submission starts about 0.9 ms sooner (no dynamic
# loading of OpenSSL), at the price of rebuilding postern for every OpenSSL security update.
OPENSSL ?= dynamic
ifeq ($(OPENSSL),static)
LIBS := -Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -lbsd -lresolv -ldl -pthread
endif

SRCS    := $(wildcard lib/*.c conf/*.c queue/*.c sendmail/*.c)
LIBSRCS := $(filter-out sendmail/main.c,$(SRCS))
OBJS    := $(LIBSRCS:%.c=$(BUILD)/obj/%.o)
UNITSRC := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all check unit integration asan fuzz lint demo install uninstall clean deps
all: $(BUILD)/postern

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpostern.a: $(OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/postern: $(BUILD)/obj/sendmail/main.o $(BUILD)/libpostern.a
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpostern.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -MMD -MP $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libpostern.a $(LIBS) -lcriterion

deps:
	@sh tests/deps.sh

unit: $(UNITBIN)
	@sh tests/run-unit.sh $(BUILD)/tests

integration: $(BUILD)/postern
	@sh tests/integration/run.sh $(BUILD)/postern

# check: the whole suite; tests/check.sh runs it and prints the closing "N passed, N failed" line.
check: deps
	@$(MAKE) --no-print-directory all $(UNITBIN)
	@sh tests/check.sh $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    HARDEN="-fPIE" SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=address,undefined \
               -DSYSCONFDIR='"$(SYSCONFDIR)"' -DSPOOLDIR='"$(SPOOLDIR)"'
FUZZOBJS := $(LIBSRCS:%.c=build-fuzz/obj/%.o)
FUZZBIN  := $(FUZZSRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build-fuzz/libpostern.a: $(FUZZOBJS)
	@rm -f $@
	@ar rcs $@ $^
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libpostern.a
	@echo "  FUZZ    $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libpostern.a $(PKG_LIBS) -lresolv
fuzz: $(FUZZBIN)

lint:
	@sh tests/lint.sh

# demo: its packages first (a fresh machine has no libssl-dev yet), then the build, then the job
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh $(BUILD)/postern

install: all
	sh conf/install.sh "$(BUILD)/postern" "$(DESTDIR)" "$(SBINDIR)" "$(SYSCONFDIR)" "$(SPOOLDIR)" "$(MANDIR)" "$(LIBEXECDIR)" "$(BINDIR)"

uninstall:
	sh conf/uninstall.sh "$(DESTDIR)" "$(SBINDIR)" "$(SYSCONFDIR)" "$(SPOOLDIR)" "$(MANDIR)" "$(LIBEXECDIR)" "$(BINDIR)"

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJS:.o=.d) $(BUILD)/obj/sendmail/main.d $(UNITBIN:=.d)
