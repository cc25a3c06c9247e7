#!/bin/sh
# `npm ci` for code-server 4.100.3 (the real VS Code workbench for test_vscode_real.py) and
# playwright-core, with nothing but the npm registry reachable. code-server's postinstall
# runs `npm install` in its lib/vscode, which compiles native modules (node-pty, kerberos:
# needs libkrb5-dev, ...) and fetches ripgrep from GitHub. Settings that keep it offline:
#  - npm_config_nodedir=/usr: node-gyp takes Debian's node headers instead of downloading them;
#  - TMPDIR holding vscode-ripgrep's download cache, filled with Debian's rg (same 13.0.0);
#  - npm_config_yes: node-pty's postinstall runs `npx node-gyp` (fetched from the registry);
#  - npm_config_unsafe_perm: as root the postinstall refuses to run without it.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# @vscode/ripgrep 1.15.11 (pinned by code-server's lib/vscode lock) wants ripgrep v13.0.0-10.
if rg=$(command -v rg); then
  case $(uname -m) in
    aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
    *) target=x86_64-unknown-linux-musl ;;
  esac
  mkdir -p "$work/rg" "$work/vscode-ripgrep-cache-1.15.11"
  cp "$rg" "$work/rg/rg"
  tar czf "$work/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-$target.tar.gz" -C "$work/rg" rg
else
  echo "install.sh: no rg (apt-get install ripgrep): code-server's postinstall will try GitHub" >&2
fi
if [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
TMPDIR="$work" npm_config_unsafe_perm=true npm_config_yes=true \
  npm ci --no-audit --no-fund --loglevel=error
