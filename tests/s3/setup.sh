#!/bin/bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the S3 test server (s3rver behind a SigV4-verifying front) into the
# build tree: setup.sh SRC_DIR DEST_DIR STAMP. Fails when it cannot, so the
# tests that need the server fail rather than skip.
set -euo pipefail

src=$1
dest=$2
stamp=$(realpath -m "$3")

command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }

mkdir -p "$dest"
cp "$src/server.js" "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
node -e 'require("s3rver"); require("aws4")'
touch "$stamp"
