# The two commands a new user needs (see README.md):
#   make demo   installs what is missing, builds, and runs the offline end-to-end demo
#   make test   installs what is missing, builds, and runs every test
BUILD ?= build

.PHONY: demo test build install bench clean

build:
	scripts/setup.sh $(BUILD)

demo: build
	$(BUILD)/bin/pipeline demo

test: build
	scripts/test.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

install: build
	cmake --install $(BUILD) --strip

clean:
	rm -rf $(BUILD) build-asan
