# Entry points for people and CI; the work is in scripts/ so it can run without make.
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: build test install demo bench soak verify-unit deb

# The commit goes into `--version` through a C define (see Sources/CBuildInfo).
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)

# The code layout of the shipped builds (scripts/layout-flags.sh), so `make install` after `make build` builds nothing
# again.
build:
	. scripts/layout-flags.sh && layout_check "$$($(SWIFT) build -c release $$LAYOUT_FLAGS --show-bin-path)" && \
	$(SWIFT) build -c release --product imagedrop $$LAYOUT_FLAGS -Xcc '-DIMAGEDROP_BUILD_COMMIT="$(COMMIT)"'

test:
	scripts/test.sh

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/install.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

soak:
	scripts/soak.sh

verify-unit:
	scripts/verify-unit.sh

deb:
	scripts/deb.sh
