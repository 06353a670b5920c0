# Entry points for people and CI; the work is in scripts/ so it can run without make.
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: build test install demo bench verify-unit deb

build:
	$(SWIFT) build -c release --product imagedrop

test:
	scripts/test.sh

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/install.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

verify-unit:
	scripts/verify-unit.sh

deb:
	scripts/deb.sh
