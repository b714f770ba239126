# dracut-verity: build, install, test.
# One static library (helpers/lib) shared by small binaries (helpers/*.c).

VERSION    := 0.1
PREFIX     ?= /usr
BINDIR     ?= $(PREFIX)/bin
# Not the multiarch libdir: dracut looks in $(PREFIX)/lib/dracut on every distribution.
LIBDIR     ?= $(PREFIX)/lib
LIBEXECDIR ?= $(LIBDIR)/dracut-verity
DRACUTDIR  ?= $(LIBDIR)/dracut
MODULEDIR  ?= $(DRACUTDIR)/modules.d/90verity-root
DRACUTCONFDIR ?= $(DRACUTDIR)/dracut.conf.d
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
# Only for the (empty) verity.d directory the package owns; the helpers and the
# module read /etc/verity.d, which is also where the initrd holds the certificates.
SYSCONFDIR ?= /etc
DESTDIR    ?=

B          ?= build
CC         ?= cc
PKGS       := blkid libcryptsetup devmapper libudev uuid json-c libcrypto fdisk
# tpm2-tss: headers only; the libraries are loaded at run time (helpers/lib/tpm2.c).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) tss2-esys)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS     ?= -O2 -g
WARN       := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
# Messages are truncated on purpose when they do not fit; gcc alone warns about it.
ifeq ($(findstring clang,$(CC)),)
WARN       += -Wno-format-truncation
endif
# Each function in a section of its own, and the linker drops the unused ones: the boot
# binaries take from the one helper library only what they call (smaller initrds).
SECTIONS   := -ffunction-sections -fdata-sections
GC_LDFLAGS := -Wl,--gc-sections
ALL_CFLAGS := $(WARN) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Ihelpers/lib -DVR_VERSION='"$(VERSION)"' \
              -DVR_LIBEXECDIR='"$(LIBEXECDIR)"' $(SECTIONS)

LIB_SRCS   := $(wildcard helpers/lib/*.c)
LIB_OBJS   := $(patsubst helpers/lib/%.c,$(B)/lib/%.o,$(LIB_SRCS))
LIB        := $(B)/libverityroot.a
BIN_SRCS   := $(wildcard helpers/*.c)
BINS       := $(patsubst helpers/%.c,$(B)/%,$(BIN_SRCS))
USER_BINS  := verity-root
UNIT_SRCS  := $(wildcard test/unit/test-*.c)
UNIT_BINS  := $(patsubst test/unit/%.c,$(B)/test/%,$(UNIT_SRCS))
FUZZ_SRCS  := $(wildcard test/fuzz/fuzz-*.c)
HEADERS    := $(wildcard helpers/lib/*.h)
# Man pages are built when scdoc is there (packages build-depend on it); SCDOC=no skips them.
SCDOC      ?= scdoc
HAVE_SCDOC := $(shell command -v $(SCDOC) >/dev/null 2>&1 && echo yes)
MAN_SRCS   := $(wildcard man/*.scd)
MAN_PAGES  := $(patsubst man/%.scd,$(B)/man/%,$(MAN_SRCS))
# Named, not globbed: every file here is active in every initrd once installed.
CONF_FILES := conf/50-verity-root.conf
# Opt-in configurations (dracut --conf FILE), not active by themselves.
SHARE_CONF := conf/uki-virt.conf
DIST_NAME  := dracut-verity-$(VERSION)
DISTDIR    ?= $(B)

.PHONY: all install uninstall check check-stacks check-kiwi check-mkosi unit-tests asan fuzz fuzzers fuzz-bins demo bench clean deps man dist check-package

all: $(BINS) $(if $(HAVE_SCDOC),man)

$(B)/lib/%.o: helpers/lib/%.c $(HEADERS) | $(B)/lib
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/%: helpers/%.c $(LIB) $(HEADERS)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(GC_LDFLAGS) $(LDFLAGS)

$(B)/test/%: test/unit/%.c $(LIB) $(HEADERS) test/unit/testlib.h | $(B)/test
	$(CC) $(ALL_CFLAGS) -Itest/unit -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka $(LDFLAGS)

$(B)/lib $(B)/test $(B)/man:
	mkdir -p $@

man: $(MAN_PAGES)

$(B)/man/%: man/%.scd | $(B)/man
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

unit-tests: $(LIB) $(UNIT_BINS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MODULEDIR)
	install -m 0755 $(B)/verity-root $(DESTDIR)$(BINDIR)/verity-root
	for b in $(filter-out $(B)/verity-root,$(BINS)); do install -m 0755 $$b $(DESTDIR)$(LIBEXECDIR)/; done
	for f in modules.d/90verity-root/*; do \
		case $$f in *.sh) m=0755;; *) m=0644;; esac; \
		sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' $$f > $(DESTDIR)$(MODULEDIR)/$${f##*/}; \
		chmod $$m $(DESTDIR)$(MODULEDIR)/$${f##*/}; \
	done
	install -d $(DESTDIR)$(DRACUTCONFDIR) $(DESTDIR)$(SYSCONFDIR)/verity.d
	for f in $(CONF_FILES); do install -m 0644 $$f $(DESTDIR)$(DRACUTCONFDIR)/; done
	install -d $(DESTDIR)$(DATADIR)/dracut-verity
	for f in $(SHARE_CONF); do install -m 0644 $$f $(DESTDIR)$(DATADIR)/dracut-verity/; done
ifeq ($(HAVE_SCDOC),yes)
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
else
	@echo "install: scdoc not found, man pages not installed"
endif

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/verity-root
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MODULEDIR)
	for f in $(CONF_FILES); do rm -f $(DESTDIR)$(DRACUTCONFDIR)/$${f##*/}; done
	rm -rf $(DESTDIR)$(DATADIR)/dracut-verity
	for m in $(MAN_SRCS); do m=$${m##*/}; m=$${m%.scd}; rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/verity.d 2>/dev/null

# A versioned tarball of the tracked (and new, not ignored) files as they are in the
# work tree; it builds on its own (make, make install) without git.
dist:
	@mkdir -p $(DISTDIR)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
			--mtime="@$$(git log -1 --format=%ct 2>/dev/null || echo 0)" \
			--transform 's,^,$(DIST_NAME)/,' -cf - | gzip -9n > $(DISTDIR)/$(DIST_NAME).tar.gz
	@echo $(DISTDIR)/$(DIST_NAME).tar.gz

# Builds the .deb from a clean copy, lintian, the installed layout, the spec, the tarball.
check-package:
	test/package/run.sh

# Unit tests again, under AddressSanitizer and UBSan (clang), in their own build dir.
asan:
	$(MAKE) B=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" all unit-tests

fuzzers:
	$(MAKE) B=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" fuzz-bins

fuzz-bins: $(LIB) $(patsubst test/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))

$(B)/fuzz/%: test/fuzz/%.c $(LIB) $(HEADERS)
	@mkdir -p $(B)/fuzz
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(PKG_LIBS)

# Long fuzzing runs (FUZZ_SECONDS each); make check runs a short smoke of the same targets.
FUZZ_SECONDS ?= 300
fuzz: fuzzers
	test/run-fuzz.sh build-fuzz/fuzz $(FUZZ_SECONDS)

# Both install what they need first (a no-op once installed), then start a fresh make
# so pkg-config flags are read after the -dev packages exist.
check: deps
	$(MAKE) all unit-tests asan fuzzers
	test/run-tests.sh

# The project built, unit-tested and boot-tested on other Debian stacks, each in a
# debootstrap root cached under /var/tmp (test/stacks/run.sh); make check runs a subset.
STACKS ?= trixie sid
check-stacks: deps
	test/stacks/run.sh $(STACKS)

# examples/kiwi/ built by Debian 12's Kiwi (host) and sid's (a debootstrap root cached
# under /var/tmp), inspected and booted under QEMU: slow, so not part of make check.
# KIWI_BUILDERS="host" or "sid" for one of them.
KIWI_BUILDERS ?= host sid
check-kiwi: deps
	$(MAKE) all
	test/kiwi/run.sh $(KIWI_BUILDERS)

# An image built by each stack's own mkosi from examples/mkosi (signed verity root)
# boots with that stack's dracut and the module: no root arguments, roothash=, tampered
# (test/mkosi/run.sh; roots cached per day under /var/tmp). Not part of make check.
MKOSI_STACKS ?= trixie sid
check-mkosi: deps
	test/mkosi/run.sh $(MKOSI_STACKS)

demo: deps
	$(MAKE) all
	test/demo.sh

bench: all
	test/bench/run.sh

deps:
	test/install-deps.sh

clean:
	rm -rf build build-asan build-fuzz
