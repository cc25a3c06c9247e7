# Editor clients (included by the top-level Makefile). Targets:
#   make clients         install what the client tests need, build all clients
#   make vscode          npm ci, type-check, unit tests, esbuild bundle, .vsix
#   make playground      npm ci and build the browser page (served by `copilot-lsp playground`)
#   make clients-test    the three clients' tests (VS Code unit tests and bundle against the
#                        real server, Neovim and browser end to end)
# `make test` runs them too: it sets COPILOT_LSP_CLIENT_TESTS=require so a missing tool
# fails the client tests instead of skipping them (`make test COPILOT_LSP_CLIENT_TESTS=` skips).

VSCODE_DIR := editor-extension/vscode
PLAYGROUND_DIR := editor-extension/playground
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
export COPILOT_LSP_CLIENT_TESTS ?= require

.PHONY: clients clients-tools vscode playground clients-test nvim-test playground-test vscode-test

clients: clients-tools vscode playground

# Debian's neovim and chromium for the end-to-end tests (installed only when missing).
clients-tools:
	@if command -v nvim >/dev/null && test -x /usr/bin/chromium; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim chromium >/dev/null; \
	else echo "clients: install neovim and chromium (apt-get install neovim chromium) for the client tests"; fi

$(VSCODE_DIR)/node_modules/.installed: $(VSCODE_DIR)/package-lock.json
	cd $(VSCODE_DIR) && $(NPM_CI)
	touch $@

$(PLAYGROUND_DIR)/node_modules/.installed: $(PLAYGROUND_DIR)/package-lock.json
	cd $(PLAYGROUND_DIR) && $(NPM_CI)
	touch $@

vscode: $(VSCODE_DIR)/node_modules/.installed
	cd $(VSCODE_DIR) && npm run --silent typecheck && npm test --silent && npm run --silent package

playground: $(PLAYGROUND_DIR)/node_modules/.installed
	cd $(PLAYGROUND_DIR) && npx tsc -p . && npm run --silent build

nvim-test: setup clients-tools
	$(BIN)/python -m pytest -ra tests/clients/test_nvim.py

playground-test: setup clients-tools playground
	$(BIN)/python -m pytest -ra tests/clients/test_playground.py

vscode-test: setup vscode
	$(BIN)/python -m pytest -ra tests/clients/test_vscode.py

clients-test: vscode-test nvim-test playground-test
