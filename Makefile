# The two commands a new user needs (see README.md):
#   make demo   installs what is missing (Claude Code into tools/), builds, and runs
#               the offline end-to-end demo with the real Claude Code CLI
#   make test   installs what is missing, builds, and runs every test
BUILD ?= build

.PHONY: demo test build install bench clean

build:
	scripts/setup.sh $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

test: build
	scripts/test.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

install: build
	cmake --install $(BUILD) --strip

clean:
	rm -rf $(BUILD) build-asan
