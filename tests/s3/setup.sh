#!/bin/bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the shared S3 test server (s3rver behind a SigV4-verifying front,
# shared/tools/s3-test-server) as it is:
#   setup.sh DEST_DIR STAMP   into the build tree (meson does this before
#                             the tests that need the server run)
#   setup.sh                  into a temporary folder (.ci/install-deps;
#                             checks that it installs and warms npm's cache)
# server.js and package.json come from shared/, beside the repository
# (../shared; $RUNNER_SHARED overrides); the dependencies are pinned by
# package-lock.json here, which must match shared's package.json.
# Fails when it cannot, so the tests that need the server fail, never skip.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest=${1:-}
stamp=${2:+$(realpath -m "$2")}

fail() { echo "setup.sh: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"

# shared/ lies beside the repository; for a git worktree, beside the main one.
if [ -n "${RUNNER_SHARED:-}" ]; then
  shared=$RUNNER_SHARED
else
  shared=$root/../shared
  if [ ! -d "$shared" ] && main=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    [ -d "$(dirname "$main")/../shared" ] && shared=$(dirname "$main")/../shared
  fi
fi
server=$shared/tools/s3-test-server
[ -f "$server/server.js" ] && [ -f "$server/package.json" ] ||
  fail "no S3 test server in $server: shared/ must lie beside the repository (../shared), or set RUNNER_SHARED"

if [ -z "$dest" ]; then
  dest=$(mktemp -d)
  trap 'rm -rf "$dest"' EXIT
fi
mkdir -p "$dest"

# npm ci again only when the dependencies changed (or a last one failed).
want=$(cat "$server/package.json" "$here/package-lock.json" | sha256sum)
if [ ! -d "$dest/node_modules/s3rver" ] || [ "$(cat "$dest/.installed" 2>/dev/null)" != "$want" ]; then
  rm -f "$dest/.installed"
  install -m 0644 "$server/package.json" "$here/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error) ||
    fail "npm ci failed in $dest (does tests/s3/package-lock.json match $server/package.json?)"
  (cd "$dest" && node -e 'require("s3rver")') || fail "s3rver does not load in $dest"
  echo "$want" >"$dest/.installed"
fi
install -m 0644 "$server/server.js" "$dest/server.js"

if [ -n "$stamp" ]; then
  touch "$stamp"
fi
