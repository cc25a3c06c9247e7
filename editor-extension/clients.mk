# Editor clients (included by the top-level Makefile). Targets:
#   make clients         install what the client tests need, build all clients
#   make vscode          npm ci, type-check, unit tests, esbuild bundle, .vsix
#   make vscode-real     code-server (real VS Code) and playwright-core for test_vscode_real.py
#   make playground      npm ci and build the browser page (served by `copilot-lsp playground`)
#   make clients-test    the three clients' tests (VS Code unit tests, the bundle against the
#                        real server in Node and the .vsix in code-server; Neovim and browser
#                        end to end)
# `make test` runs them too: it sets COPILOT_LSP_CLIENT_TESTS=require so a missing tool
# fails the client tests instead of skipping them (`make test COPILOT_LSP_CLIENT_TESTS=` skips).

VSCODE_DIR := editor-extension/vscode
VSCODE_REAL_DIR := $(VSCODE_DIR)/test/real
PLAYGROUND_DIR := editor-extension/playground
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
export COPILOT_LSP_CLIENT_TESTS ?= require

.PHONY: clients clients-tools vscode vscode-real playground clients-test nvim-test \
	playground-test vscode-test

clients: clients-tools vscode vscode-real playground

# Debian's neovim and chromium for the end-to-end tests, ripgrep and libkrb5-dev for
# code-server's install (installed only when missing).
CLIENT_PACKAGES := neovim chromium ripgrep libkrb5-dev
clients-tools:
	@if command -v nvim >/dev/null && test -x /usr/bin/chromium && command -v rg >/dev/null \
		&& test -f /usr/include/gssapi/gssapi.h; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CLIENT_PACKAGES) >/dev/null; \
	else echo "clients: apt-get install $(CLIENT_PACKAGES) for the client tests"; fi

$(VSCODE_DIR)/node_modules/.installed: $(VSCODE_DIR)/package-lock.json
	cd $(VSCODE_DIR) && $(NPM_CI)
	touch $@

# code-server builds native modules in its postinstall; install.sh keeps that offline.
$(VSCODE_REAL_DIR)/node_modules/.installed: $(VSCODE_REAL_DIR)/package-lock.json \
		$(VSCODE_REAL_DIR)/install.sh | clients-tools
	sh $(VSCODE_REAL_DIR)/install.sh
	touch $@

$(PLAYGROUND_DIR)/node_modules/.installed: $(PLAYGROUND_DIR)/package-lock.json
	cd $(PLAYGROUND_DIR) && $(NPM_CI)
	touch $@

vscode: $(VSCODE_DIR)/node_modules/.installed
	cd $(VSCODE_DIR) && npm run --silent typecheck && npm test --silent && npm run --silent package

vscode-real: $(VSCODE_REAL_DIR)/node_modules/.installed

playground: $(PLAYGROUND_DIR)/node_modules/.installed
	cd $(PLAYGROUND_DIR) && npx tsc -p . && npm run --silent unit && npm run --silent build

nvim-test: setup clients-tools
	$(BIN)/python -m pytest -ra tests/clients/test_nvim.py

playground-test: setup clients-tools playground
	$(BIN)/python -m pytest -ra tests/clients/test_playground.py

vscode-test: setup clients-tools vscode vscode-real
	$(BIN)/python -m pytest -ra tests/clients/test_vscode.py tests/clients/test_vscode_real.py

clients-test: vscode-test nvim-test playground-test
