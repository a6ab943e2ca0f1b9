# postern - a sendmail-compatible mail sender.
#
# make            build build/sendmail (the set-group-id front door, no OpenSSL; static musl where
#                 musl-tools is installed, FRONT=glibc for a dynamic glibc one) and build/postern
#                 (the queue side: runner, admin commands) from build/libpostern.a
# make check      unit tests (Criterion) and integration tests (the real world, tests/integration)
# make unit       unit tests only          make asan    unit tests under ASan+UBSan
# make fuzz       libFuzzer targets        make lint    banned functions, bare exit codes, includes,
#                                                       and build/sendmail free of OpenSSL
# make demo       the main job end to end on a private spool (see README)
# make install    DESTDIR, PREFIX, SYSCONFDIR, SPOOLDIR honoured; make uninstall reverses it
# make deb        postern_VERSION_ARCH.deb here (debian/, through make install)
# make deb-check  the package in a fresh Debian 12 root (root, network; not part of make check)

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
# the front door links libc alone: an object it pulls in that needs libssl, libcrypto or libbsd fails its
# link, and every library it loaded would cost each submission (about 0.04 ms apiece here). It hashes
# nothing today; SHA-256, should it ever need one, comes from libmd, never from libcrypto.
FRONT_LIBS := -lresolv
# FRONT=musl (the default where Debian's musl-tools is installed): build/sendmail is linked static-pie
# against musl. A submission's time is mostly exec and libc start-up: a static musl program is running
# in about 0.15 ms, a dynamic glibc one in 0.6 ms (ld.so, relocations, glibc's CPU feature probing), and
# the caller waits for that on every mail (bench/results, README). The front door asks libc for files,
# a passwd entry, the postern group and the host's canonical name, nothing that needs glibc; musl
# reads users from /etc/passwd (and nscd) only, so for a caller found in neither the composer asks
# glibc's getent (sendmail/pwnss.h: LDAP, SSSD and NIS users). FRONT=glibc, a sanitiser build or no
# musl-gcc: linked dynamic against glibc from libpostern.a, as the unit tests are.
MUSL_CC  ?= musl-gcc
MUSL_LIB ?= $(patsubst %/,%,$(dir $(shell sed -n 's/.*-specs "\([^"]*\)".*/\1/p' \
              "$$(command -v $(MUSL_CC))" 2>/dev/null)))
FRONT    ?= $(if $(SANFLAGS),glibc,$(if $(wildcard $(MUSL_LIB)/rcrt1.o),musl,glibc))
# where each program finds the other (lib/rerun.h): compiled in, never looked up at run time
POSTERN_PATH  ?= $(SBINDIR)/postern
SENDMAIL_PATH ?= $(SBINDIR)/sendmail

WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual \
          -Wformat=2 -Wno-format-nonliteral -Werror
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
SANFLAGS ?=
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -I. \
              -DSYSCONFDIR='"$(SYSCONFDIR)"' -DSPOOLDIR='"$(SPOOLDIR)"' \
              -DPOSTERN_PATH='"$(POSTERN_PATH)"' -DSENDMAIL_PATH='"$(SENDMAIL_PATH)"'
LDFLAGS ?=
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lresolv -pthread
# OPENSSL=static links libssl.a and libcrypto.a into postern (the queue side; the front door has none):
# a queue run starts about 0.9 ms sooner, at the price of rebuilding postern for every OpenSSL update.
OPENSSL ?= dynamic
ifeq ($(OPENSSL),static)
LIBS := -Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -lbsd -lresolv -ldl -pthread
endif

SRCS    := $(wildcard lib/*.c conf/*.c queue/*/*.c sendmail/*.c)
MAINS   := sendmail/main.c sendmail/postern_main.c
LIBSRCS := $(filter-out $(MAINS),$(SRCS))
OBJS    := $(LIBSRCS:%.c=$(BUILD)/obj/%.o)
UNITSRC := $(wildcard tests/unit/test_*.c)
UNITBIN := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZSRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: FORCE all check unit integration asan fuzz lint demo install uninstall clean deps deb deb-check
all: $(BUILD)/sendmail $(BUILD)/postern

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# the objects that name the other program are rebuilt when SBINDIR (or a *_PATH) changes, so that
# `make install SBINDIR=...` after a plain `make` never installs programs that look in the wrong place
$(BUILD)/paths: FORCE
	@mkdir -p $(dir $@)
	@echo "$(POSTERN_PATH) $(SENDMAIL_PATH)" | cmp -s - $@ || echo "$(POSTERN_PATH) $(SENDMAIL_PATH)" >$@
$(BUILD)/obj/sendmail/main.o $(BUILD)/obj/sendmail/postern_main.o $(BUILD)/obj/sendmail/submit.o \
    $(BUILD)/obj/queue/runq.o: $(BUILD)/paths
FORCE:

$(BUILD)/libpostern.a: $(OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

ifeq ($(FRONT),musl)
ifeq ($(wildcard $(MUSL_LIB)/rcrt1.o),)
$(error FRONT=musl: no musl-gcc and musl's rcrt1.o (apt-get install musl-tools), or build with FRONT=glibc)
endif
# the front door's own sources, compiled again for musl (glibc's headers and objects cannot be mixed
# with it; no OpenSSL or libbsd flags): a source the front door comes to need that is missing here
# fails the link by name. No FORTIFY (a glibc feature); gcc's static-pie start files are glibc's, so
# musl's rcrt1.o is named here, and --build-id (the specs drop gcc's link options too).
FRONT_SRCS := lib/addr.c lib/buf.c lib/clock.c lib/date.c lib/err.c lib/fdio.c lib/hdr.c lib/log.c \
              lib/mime.c lib/mimeconv.c lib/rerun.c lib/text.c conf/aliases.c conf/config.c \
              conf/confval.c queue/store/envelope.c queue/store/envelope_parse.c queue/store/mailq.c \
              queue/store/spool.c queue/store/spool_mark.c queue/store/spool_run.c \
              queue/run/qadmin_json.c sendmail/args.c sendmail/body.c sendmail/compose.c \
              sendmail/front.c sendmail/handoff.c sendmail/msg.c sendmail/privsep.c sendmail/pwnss.c \
              sendmail/rcpt.c sendmail/rewrite.c sendmail/smtpd.c sendmail/start.c sendmail/submit.c \
              sendmail/main.c
FRONT_OBJS := $(FRONT_SRCS:%.c=$(BUILD)/front/%.o)
FRONT_CFLAGS := $(filter-out -D_FORTIFY_SOURCE% $(PKG_CFLAGS),$(ALL_CFLAGS))
FRONT_START := $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $(shell $(CC) -print-file-name=crtbeginS.o)
FRONT_END   := -lc $(shell $(CC) -print-libgcc-file-name) $(shell $(CC) -print-file-name=crtendS.o) \
               $(MUSL_LIB)/crtn.o

$(BUILD)/front/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  MUSL    $<"
	@$(MUSL_CC) $(FRONT_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/front/sendmail/main.o $(BUILD)/front/sendmail/submit.o: $(BUILD)/paths

$(BUILD)/sendmail: $(FRONT_OBJS)
	@echo "  LD      $@ (musl, static-pie)"
	@$(MUSL_CC) -static -nostartfiles -Wl,-pie,--no-dynamic-linker,--build-id,-z,text,-z,relro,-z,now $(LDFLAGS) \
	    -o $@ $(FRONT_START) $^ $(FRONT_END)
-include $(FRONT_OBJS:.o=.d)
else
$(BUILD)/sendmail: $(BUILD)/obj/sendmail/main.o $(BUILD)/libpostern.a
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(FRONT_LIBS)
endif

$(BUILD)/postern: $(BUILD)/obj/sendmail/postern_main.o $(BUILD)/libpostern.a
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

integration: all
	@sh tests/integration/run.sh $(BUILD)

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

# lint: the source rules, and the built front door linking no OpenSSL (tests/frontdoor.sh)
lint: $(BUILD)/sendmail $(BUILD)/postern
	@sh tests/lint.sh
	@sh tests/frontdoor.sh $(BUILD)/sendmail $(BUILD)/postern

# demo: its packages first (a fresh machine has no libssl-dev yet), then the build, then the job
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh $(BUILD)

install: all
	sh conf/install.sh "$(BUILD)" "$(DESTDIR)" "$(SBINDIR)" "$(SYSCONFDIR)" "$(SPOOLDIR)" "$(MANDIR)" "$(LIBEXECDIR)" "$(BINDIR)"

uninstall:
	sh conf/uninstall.sh "$(DESTDIR)" "$(SBINDIR)" "$(SYSCONFDIR)" "$(SPOOLDIR)" "$(MANDIR)" "$(LIBEXECDIR)" "$(BINDIR)"

# deb: dpkg-buildpackage writes to the parent folder; the package and its records are moved here
VERSION  := $(shell cat VERSION)
DEB_ARCH  = $(shell dpkg --print-architecture)
DEB_OUT   = postern_$(VERSION)_$(DEB_ARCH)
deb:
	DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS) noddebs" dpkg-buildpackage -us -uc -b
	mv ../$(DEB_OUT).deb ../$(DEB_OUT).buildinfo ../$(DEB_OUT).changes .
	@echo "deb: $(DEB_OUT).deb"

deb-check:
	@sh tests/deb/run.sh --deps
	@$(MAKE) --no-print-directory deb
	@sh tests/deb/run.sh $(DEB_OUT).deb

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJS:.o=.d) $(MAINS:%.c=$(BUILD)/obj/%.d) $(UNITBIN:=.d)
