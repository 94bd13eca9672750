#!/bin/bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the S3 test server (s3rver behind a SigV4-verifying front):
#   setup.sh SRC_DIR DEST_DIR STAMP   into the build tree (meson does this
#                                     before the s3 suite runs)
#   setup.sh                          into tests/s3 itself (.ci/install-deps;
#                                     warms npm's cache)
# Fails when it cannot, so the tests that need the server fail, never skip.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here}
dest=${2:-$here}
stamp=${3:+$(realpath -m "$3")}

command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }

mkdir -p "$dest"
if [ "$(realpath "$src")" != "$(realpath "$dest")" ]; then
  cp "$src/server.js" "$src/package.json" "$src/package-lock.json" "$dest/"
fi
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
node -e 'require("s3rver"); require("aws4")'
if [ -n "$stamp" ]; then
  touch "$stamp"
fi
