# SPDX-License-Identifier: GPL-2.0
#
# archip top-level Makefile.
#
#   make deps      install build/test dependencies, fetch the lab kernel
#                  (Debian's 6.1; with ARCHIP_KERNEL=6.12 its 6.12 LTS too)
#   make           build the modules (archip_srv, archip_blk, the patched
#                  ocfs2.ko and ocfs2_nodemanager.ko) and the
#                  tools (archipctl, its unit tests, archip-obj) into build/
#   make install   archipctl, archip-obj, man pages, bash completion
#   make deb       Debian packages archipctl and archip-dkms (build/deb/)
#   make demo      boot the lab and show the cluster working (README)
#   make test      run the whole test suite (README; what CI runs)
#   make bench-ocfs2   lock-latency benchmark of the OCFS2 options
#   make bench-objects object server vs local direct I/O
#   make bench-block   /dev/archipN vs NVMe/TCP, krbd, NBD, local (thesis Ch. 8)
#   make bench-scale   1-32 volumes at once, 1-4 queues, 10-10,000 volumes stored
#   make bench-placement  new objects on two storage nodes, store layout 1 vs 2
#   make debug-kernel  the lab's KASAN/lockdep kernel (once per machine);
#                  then ARCHIP_KERNEL=debug make test runs the suite on it
#   ARCHIP_KERNEL=6.12 make test  the whole suite on Debian 12's 6.12 LTS
#                  kernel ('make test' runs a core subset there after 6.1)
#
# KDIR=/lib/modules/$(uname -r)/build builds for another kernel (a real
# host); by default we build for the lab kernel picked by 'make deps'.

CACHE ?= $(CURDIR)/.cache
# ARCHIP_KERNEL=debug: build for (and test on) the lab's debug kernel;
# ARCHIP_KERNEL=6.12: Debian's 6.12 LTS.  Unset (or 6.1): Debian's 6.1.
ifneq ($(filter-out debug 6.1 6.12,$(ARCHIP_KERNEL)),)
$(error ARCHIP_KERNEL=$(ARCHIP_KERNEL): known are 6.1 (the default), debug and 6.12)
endif
KSUFFIX := $(if $(filter debug,$(ARCHIP_KERNEL)),-debug)$(if $(filter 6.12,$(ARCHIP_KERNEL)),-6.12)
KENV := $(CACHE)/kernel$(KSUFFIX).env
-include $(KENV)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build
OCFS2_SRC := $(BUILD)/ocfs2-src$(KSUFFIX)
OCFS2_PATCHES := $(wildcard fs/ocfs2/patches/*.patch) fs/ocfs2/series fs/ocfs2/prepare.sh VERSION

.PHONY: all deps modules archip ocfs2 tools install deb test demo bench-ocfs2 bench-objects bench-block bench-placement bench-scale checkpatch clean debug-kernel

all: modules tools

deps:
	@bash tools/lab/deps.sh

$(CACHE)/kernel.env:
	@bash tools/lab/deps.sh

$(CACHE)/kernel-6.12.env:
	@ARCHIP_KERNEL=6.12 bash tools/lab/deps.sh

# The lab's debug kernel (KASAN, lockdep, KFENCE, kmemleak): built once.
debug-kernel: $(CACHE)/kernel.env
	@bash tools/lab/debug-kernel.sh

$(CACHE)/kernel-debug.env: $(CACHE)/kernel.env
	@bash tools/lab/debug-kernel.sh

modules: archip ocfs2

archip: $(KENV)
	$(MAKE) -j$$(nproc) -C $(KDIR) M=$(CURDIR) modules

# Re-extract and re-patch only when the series or the kernel changed;
# kbuild then rebuilds only what changed.
$(OCFS2_SRC)/.stamp: $(OCFS2_PATCHES) $(KENV)
	@test -n "$(KSRC_TAR)" || { echo "run 'make deps' first" >&2; exit 1; }
	bash fs/ocfs2/prepare.sh $(KSRC_TAR) $(OCFS2_SRC)
	@touch $@

ocfs2: $(OCFS2_SRC)/.stamp
	$(MAKE) -j$$(nproc) -C $(KDIR) M=$(OCFS2_SRC)/fs/ocfs2 modules
	@mkdir -p $(BUILD)/ocfs2$(KSUFFIX)
	cp $(OCFS2_SRC)/fs/ocfs2/ocfs2.ko $(OCFS2_SRC)/fs/ocfs2/cluster/ocfs2_nodemanager.ko \
		$(BUILD)/ocfs2$(KSUFFIX)/

tools:
	@$(MAKE) --no-print-directory -j$$(nproc) -C tools/archipctl

# archipctl, archip-obj, the man pages and the bash completion (DESTDIR,
# PREFIX=/usr); the modules are not installed by this yet.
install:
	@$(MAKE) --no-print-directory -C tools/archipctl install

# Debian packages archipctl and archip-dkms, built by dpkg-buildpackage from
# a copy of the tree (what git ignores left out), into build/deb/.
deb:
	@test "$$(dpkg-parsechangelog -S Version)" = "$$(cat VERSION)" || \
		{ echo "debian/changelog is not at VERSION $$(cat VERSION): add an entry (dch -v $$(cat VERSION))" >&2; exit 1; }
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/archip
	rsync -a --exclude=.git --filter=':- .gitignore' $(CURDIR)/ $(BUILD)/deb/archip/
	cd $(BUILD)/deb/archip && dpkg-buildpackage -us -uc -b >$(BUILD)/deb/build.log 2>&1 || \
		{ tail -n 30 $(BUILD)/deb/build.log >&2; exit 1; }
	@ls $(BUILD)/deb/*.deb

# With no ARCHIP_KERNEL, the suite also runs its core subset on 6.12
# (selftests/run.sh).
test: deps $(if $(ARCHIP_KERNEL),,$(CACHE)/kernel-6.12.env)
	@$(MAKE) --no-print-directory all
	@bash selftests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tools/lab/demo.sh

bench-ocfs2: deps
	@$(MAKE) --no-print-directory all
	@bash bench/ocfs2-locks.sh

bench-objects: deps
	@$(MAKE) --no-print-directory all
	@bash bench/object-server.sh

bench-block: deps
	@$(MAKE) --no-print-directory all
	@bash bench/block.sh

bench-placement: deps
	@$(MAKE) --no-print-directory all
	@bash bench/placement.sh

bench-scale: deps
	@$(MAKE) --no-print-directory all
	@bash bench/scale.sh

CHECKPATCH = $(BUILD)/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH): $(CACHE)/kernel.env
	mkdir -p $(BUILD)/checkpatch
	top=$$(basename $(KSRC_TAR) .tar.xz) && \
	tar -xJf $(KSRC_TAR) -C $(BUILD)/checkpatch --strip-components=1 \
		$$top/scripts/checkpatch.pl $$top/scripts/spelling.txt \
		$$top/scripts/const_structs.checkpatch
	touch $@

checkpatch: $(CHECKPATCH)
	@files=$$(find drivers include -name '*.[ch]' ! -name '*.mod.c' 2>/dev/null); \
	if [ -n "$$files" ]; then $(CHECKPATCH) --no-tree --quiet -f $$files; fi
	@for p in fs/ocfs2/patches/*.patch; do $(CHECKPATCH) --no-tree --quiet - <$$p || exit 1; done

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
