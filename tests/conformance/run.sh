#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Runs one conformance test script with node's test runner (TAP on stdout).
# Fails, never skips, when node or the npm modules are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
script=$1

if ! command -v node >/dev/null 2>&1; then
  echo "Bail out! node is not installed"
  exit 1
fi
if [ ! -d "$here/node_modules/ws" ]; then
  echo "Bail out! ws is missing: run tests/conformance/setup.sh"
  exit 1
fi

exec node --test --test-reporter=tap --test-concurrency=1 "$here/$script"
