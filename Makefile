# ssiuml: SSI clusters of User-Mode Linux machines on one host.
#
#   make                 build the tools, the helpers and the default images
#   make PACKAGES="jq"   ... with those Debian packages in the node root too
#   make check           run every test (needs the packages .ci/run installs)
#   make install         install under PREFIX (default /usr/local), DESTDIR honoured
#
# One set of variables feeds the code (build/ssi_paths.h) and the manual
# pages (man/*.in), so that the two never disagree.

VERSION = 0.1.0

SHELL = /bin/bash
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
PKGLIBDIR ?= $(PREFIX)/lib/ssiuml
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/ssiuml
COMPLETIONSDIR ?= $(PREFIX)/share/bash-completion/completions
# The UML kernel the installed linux-ssi link points to.
UML_KERNEL ?= /usr/bin/linux.uml

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	    -Wformat=2 -Wno-format-nonliteral
GLIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags glib-2.0)
GLIB_LIBS := $(shell $(PKG_CONFIG) --libs glib-2.0)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-glib-1.0 2>/dev/null)
JSON_LIBS := $(shell $(PKG_CONFIG) --libs json-glib-1.0 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# make check SANITIZE=1: everything built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any finding fails), in a tree of its own.
ifdef SANITIZE
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
B = build-san
else
B = build
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DSSI_VERSION='"$(VERSION)"' -Iinclude -I$(B) \
	     $(GLIB_CFLAGS) $(JSON_CFLAGS) $(WARNFLAGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q =
else
Q = @
endif

LIB_SRCS = $(wildcard src/lib/*.c)
# The guests' event lines (ssi_proto.h), exec line (ssi_frame.h) and
# cluster.conf (ssi_clusterconf.h): plain C, in the library and in the
# guests' program alike.
PROTO_SRCS = src/proto/proto.c src/proto/frame.c src/proto/clusterconf.c
PROTO_HDRS = include/ssi_proto.h include/ssi_frame.h include/ssi_clusterconf.h
LIB_OBJS = $(LIB_SRCS:src/lib/%.c=$(B)/lib-obj/%.o) $(PROTO_SRCS:src/proto/%.c=$(B)/lib-obj/%.o)
TOOLS = ssi-start ssi-add ssi-rm ssi-stop ssi-ls ssi-console ssi-exec ssi-log ssi-fault
TOOL_BINS = $(TOOLS:%=$(B)/bin/%)
HELPERS = $(B)/lib/ssiuml-run $(B)/lib/ssiuml-xstate.so $(B)/lib/ssiuml-cable
# The guests' client of the lock server: static, for the busybox images.
MEMBER = $(B)/guest/ssiuml-member
MEMBER_LIB_SRCS = src/guest/b64.c src/guest/http.c src/guest/etcd.c src/guest/members.c \
		  src/guest/request.c \
		  $(PROTO_SRCS)
MEMBER_SRCS = $(MEMBER_LIB_SRCS) src/guest/net.c src/guest/exec.c src/guest/onnode.c \
	      src/guest/ssiuml-member.c
IMAGES = root.img cidev.img initrd-ssi.img initrd-memexp.img
IMAGE_FILES = $(IMAGES:%=$(B)/images/%)
MAN1 = $(TOOLS:%=$(B)/man/%.1)
MAN5 = $(B)/man/ssiuml.conf.5
MAN7 = $(B)/man/ssiuml.7
MANS = $(MAN1) $(MAN5) $(MAN7)
TEST_SRCS = $(wildcard tests/*.c)
TEST_BIN = $(B)/tests/check_ssiuml

.PHONY: all images man check shellcheck install uninstall clean valgrind fuzz bench bench-roots stress
.DELETE_ON_ERROR:

all: $(B)/libssiuml.a $(TOOL_BINS) $(HELPERS) $(MEMBER) images man

# Rewritten only when a path changes, so that objects rebuild exactly then.
# The node limit of the CIDEV ssiuml builds, and the defaults the usage
# texts and the manual pages name, from where they are set.
MAXNODES_BUILT := $(shell sed -n 's/^MAXNODES=//p' scripts/image/cidev/cluster.conf)
REMOTE_TIMEOUT_S := $(shell sed -n 's/^\#define SSI_REMOTE_TIMEOUT_MS \([0-9]*\)000$$/\1/p' include/ssi_remote.h)
STOP_TIMEOUT_S := $(shell sed -n 's/^\#define SSI_STOP_TIMEOUT_DEFAULT \([0-9]*\)$$/\1/p' include/ssi_config.h)
EXEC_TIMEOUT_S := $(shell sed -n 's/^\#define SSI_EXEC_TIMEOUT_DEFAULT \([0-9]*\)$$/\1/p' include/ssi_exec.h)
EXEC_UNREACHABLE := $(shell sed -n 's/^\#define SSI_EXEC_UNREACHABLE \([0-9]*\)$$/\1/p' include/ssi_exec.h)
BOOT_TIMEOUT_S := $(shell sed -n 's/^\#define SSI_BOOT_TIMEOUT_DEFAULT \([0-9]*\)$$/\1/p' include/ssi_config.h)
$(if $(MAXNODES_BUILT),,$(error no MAXNODES= in scripts/image/cidev/cluster.conf))
$(if $(REMOTE_TIMEOUT_S),,$(error no SSI_REMOTE_TIMEOUT_MS in whole seconds in include/ssi_remote.h))
$(if $(STOP_TIMEOUT_S),,$(error no SSI_STOP_TIMEOUT_DEFAULT in include/ssi_config.h))
$(if $(EXEC_TIMEOUT_S),,$(error no SSI_EXEC_TIMEOUT_DEFAULT in include/ssi_exec.h))
$(if $(EXEC_UNREACHABLE),,$(error no SSI_EXEC_UNREACHABLE in include/ssi_exec.h))

$(B)/ssi_paths.h: FORCE
	@mkdir -p $(B)
	@printf '#define SSI_BINDIR "%s"\n#define SSI_PKGLIBDIR "%s"\n#define SSI_BUILT_MAXNODES %s\n' \
		'$(BINDIR)' '$(PKGLIBDIR)' '$(MAXNODES_BUILT)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(B)/lib-obj/%.o: src/lib/%.c $(wildcard include/*.h) $(B)/ssi_paths.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/lib-obj/%.o: src/proto/%.c $(PROTO_HDRS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libssiuml.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The library reads another host's ssi-ls --json (src/lib/remote.c).
TOOL_LIBS = $(JSON_LIBS)

$(B)/bin/%: src/%.c src/tool.c src/tool.h $(B)/libssiuml.a
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -o $@ $< src/tool.c $(B)/libssiuml.a \
		$(ALL_LDFLAGS) $(TOOL_LIBS) $(GLIB_LIBS)

$(B)/lib/ssiuml-run: src/helpers/ssiuml-run.c $(B)/libssiuml.a
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libssiuml.a $(ALL_LDFLAGS) $(JSON_LIBS) $(GLIB_LIBS)

# Run by the kernels' vde_plug helpers, which carry the kernels'
# LD_PRELOAD: plain C, no GLib, never sanitized.
$(B)/lib/ssiuml-cable: src/helpers/ssiuml-cable.c $(B)/ssi_paths.h
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -I$(B) $(WARNFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

# Loaded into the UML kernel: never sanitized, no GLib.
$(B)/lib/ssiuml-xstate.so: src/helpers/ssiuml-xstate.c
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARNFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# Never sanitized (it runs in the guests) and linked statically with
# jansson (libjansson-dev ships libjansson.a): the images have no libraries.
$(MEMBER): $(MEMBER_SRCS) $(wildcard src/guest/*.h) $(PROTO_HDRS)
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -Iinclude $(WARNFLAGS) $(CFLAGS) -static -o $@ $(MEMBER_SRCS) \
		$(LDFLAGS) -ljansson

# The node root is Debian's (mmdebstrap); PACKAGES names more of it.  The
# Debian tarball is kept in $(B)/cache and reused while the package list
# is the same (scripts/mkimages); the images are rebuilt when PACKAGES
# changes, through this file, rewritten only then.
PACKAGES ?=
IMAGE_CACHE = $(B)/cache
$(B)/images/.packages: FORCE
	@mkdir -p $(@D)
	@echo '$(sort $(PACKAGES))' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

images: $(IMAGE_FILES)
$(IMAGE_FILES) &: scripts/mkimages $(shell find scripts/image -type f) $(B)/images/.packages \
		$(MEMBER)
	@echo "  IMAGES  $(B)/images"
	$(Q)MEMBER=$(MEMBER) SSIUML_VERSION=$(VERSION) scripts/mkimages \
		--packages "$(PACKAGES)" --cache $(IMAGE_CACHE) $(B)/images

man: $(MANS)
$(B)/man/%: man/%.in Makefile scripts/image/cidev/cluster.conf include/ssi_remote.h include/ssi_config.h
	@mkdir -p $(@D)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@UML_KERNEL@|$(UML_KERNEL)|g' -e 's|@MAXNODES@|$(MAXNODES_BUILT)|g' \
		-e 's|@REMOTE_TIMEOUT@|$(REMOTE_TIMEOUT_S)|g' \
		-e 's|@STOP_TIMEOUT@|$(STOP_TIMEOUT_S)|g' \
		-e 's|@EXEC_TIMEOUT@|$(EXEC_TIMEOUT_S)|g' \
		-e 's|@EXEC_UNREACHABLE@|$(EXEC_UNREACHABLE)|g' $< > $@

$(TEST_BIN): $(TEST_SRCS) tests/testlib.h $(B)/libssiuml.a $(MEMBER_LIB_SRCS) $(wildcard src/guest/*.h)
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(JSON_CFLAGS) -Itests -Isrc/guest -o $@ $(TEST_SRCS) \
		$(MEMBER_LIB_SRCS) $(B)/libssiuml.a $(ALL_LDFLAGS) $(CHECK_LIBS) $(JSON_LIBS) \
		-ljansson $(GLIB_LIBS)

# Every shell script: the host's (bash, or sh where they say so) and the
# guests' (busybox ash, checked as dash, which has the same "local").
HOST_SCRIPTS = scripts/mkimages scripts/quickstart bench/bench bench/roots bench/bigcluster \
	bench/lslogs bench/exec bench/network bench/faults bench/sharedroot bench/onnode
GUEST_SCRIPTS = scripts/image/lib/ssiuml.sh scripts/image/initrd-ssi/init \
		scripts/image/initrd-ssi/unmount scripts/image/initrd-ssi/hb-stop \
		scripts/image/initrd-memexp/init scripts/image/root/sbin/cluster-agent \
		scripts/image/root/sbin/ssiuml-power scripts/image/root/bin/cluster \
		scripts/image/root/etc/init.d/rcS scripts/image/root/etc/init.d/rcK
SHELLCHECK ?= shellcheck

shellcheck:
	$(Q)$(SHELLCHECK) -x $(HOST_SCRIPTS) $(GUEST_SCRIPTS)
	$(Q)$(SHELLCHECK) -s bash scripts/bash-completion

# The tests run the tools from the build tree against the built images.
# The member suite runs ssiuml-member against the very etcd the lock
# server runs: the root image's own (Debian's etcd-server, linked with
# the same Debian 12 libc as this host's).
TEST_ETCD = $(B)/test-etcd
DEBUGFS = $(shell PATH="$$PATH:/usr/sbin:/sbin" command -v debugfs)
$(TEST_ETCD): $(IMAGE_FILES)
	@echo "  ETCD    $@ (from root.img)"
	$(Q)rm -f $@.tmp && "$(DEBUGFS)" -R "dump -p /usr/bin/etcd $@.tmp" $(B)/images/root.img \
		>/dev/null 2>&1; test -s $@.tmp || { echo "no /usr/bin/etcd in $(B)/images/root.img"; \
		rm -f $@.tmp; exit 1; }; chmod 0755 $@.tmp && mv -f $@.tmp $@

check: all $(TEST_BIN) $(TEST_ETCD) shellcheck
	$(Q)bash -n scripts/bash-completion
	$(Q)for m in $(MANS); do \
		LC_ALL=C MANWIDTH=80 man --warnings -E UTF-8 -l $$m 2>&1 >/dev/null | \
		grep . && { echo "man page warnings in $$m"; exit 1; }; done; true
	$(Q)root=$$(mktemp -d "$${TMPDIR:-/tmp}/ssiuml-check-XXXXXX") || exit 1; \
	echo "SSIUML_BUILD=$(CURDIR)/$(B) $(TEST_BIN)  (test root $$root)"; \
	SSIUML_TEST_ROOT=$$root SSIUML_BUILD=$(CURDIR)/$(B) $(TEST_BIN); rc=$$?; \
	tests/leftovers "$$root" || rc=1; \
	rm -rf "$$root"; exit $$rc

# The fault injection of make check, with many more trials.
TRIALS ?= 40
stress: all $(TEST_BIN)
	SSIUML_BUILD=$(CURDIR)/$(B) SSIUML_TRIALS=$(TRIALS) CK_RUN_SUITE=safety \
		CK_RUN_CASE=faults $(TEST_BIN)

# The unit suites in-process and the command-line suite's tools, all
# under valgrind's memcheck: any error or leak fails.
VALGRIND = valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	   --error-exitcode=99
valgrind: all $(TEST_BIN)
	$(Q)for s in nodes config proto add state proc; do \
		SSIUML_BUILD=$(CURDIR)/$(B) CK_FORK=no CK_RUN_SUITE=$$s \
			$(VALGRIND) $(TEST_BIN) || exit 1; done
	SSIUML_BUILD=$(CURDIR)/$(B) CK_RUN_SUITE=cli SSIUML_TEST_WRAPPER="$(VALGRIND)" \
		$(TEST_BIN)

# libFuzzer (clang) on the parsers (configuration, node lists, the lock
# server's event lines, ssiuml-member's HTTP and JSON, cluster.conf), from
# the seeds in tests/fuzz/corpus;
# what it finds goes to $(B)/fuzz/corpus-*, the tree is not written.
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_TARGETS = config nodes event proto member frame clusterconf
FUZZ_BINS = $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz-%)
FUZZ_LIB = src/lib/config.c src/lib/nodes.c src/lib/error.c src/lib/event.c $(PROTO_SRCS)
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	     -fno-sanitize-recover=all

$(B)/fuzz/fuzz-%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(wildcard include/*.h) $(B)/ssi_paths.h
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -Iinclude -I$(B) $(GLIB_CFLAGS) -o $@ $< $(FUZZ_LIB) \
		$(GLIB_LIBS)

# ssiuml-member's parsers of what the lock server sends (no GLib there).
$(B)/fuzz/fuzz-member: tests/fuzz/fuzz_member.c $(MEMBER_LIB_SRCS) $(wildcard src/guest/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -Iinclude -Isrc/guest -o $@ $< $(MEMBER_LIB_SRCS) -ljansson

fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/fuzz/corpus-$$t && \
		echo "  FUZZ    $$t for $(FUZZ_TIME) s" && \
		$(B)/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/crash-$$t- \
			$(B)/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E '^stat::number_of_executed_units|^stat::peak_rss|ERROR|SUMMARY|Test unit written' ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; done

# The benchmarks: figures side by side, on this machine (bench/bench).
bench: all
	bench/bench

# The Debian node root against the old busybox one (bench/roots).
bench-roots: all
	bench/roots

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGLIBDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR)
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	ln -sf $(UML_KERNEL) $(DESTDIR)$(BINDIR)/linux-ssi
	install -m 755 $(HELPERS) $(DESTDIR)$(PKGLIBDIR)
	install -m 644 $(IMAGE_FILES) $(DESTDIR)$(PKGLIBDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -m 644 conf/ssiuml.conf README $(DESTDIR)$(DOCDIR)
	install -d $(DESTDIR)$(COMPLETIONSDIR)
	for t in $(TOOLS); do \
		install -m 644 scripts/bash-completion $(DESTDIR)$(COMPLETIONSDIR)/$$t; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(BINDIR)/linux-ssi
	rm -f $(HELPERS:$(B)/lib/%=$(DESTDIR)$(PKGLIBDIR)/%) $(IMAGES:%=$(DESTDIR)$(PKGLIBDIR)/%)
	rm -f $(MAN1:$(B)/man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	      $(MAN5:$(B)/man/%=$(DESTDIR)$(MANDIR)/man5/%) \
	      $(MAN7:$(B)/man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(DESTDIR)$(DOCDIR)/ssiuml.conf $(DESTDIR)$(DOCDIR)/README
	rm -f $(TOOLS:%=$(DESTDIR)$(COMPLETIONSDIR)/%)
	-rmdir $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-san
