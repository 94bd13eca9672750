#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Runs the browser test with node's test runner (TAP on stdout). Fails, never
# skips, when node, the npm modules or Chromium are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1; then
  echo "Bail out! node is not installed"
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "Bail out! playwright-core is missing: run tests/e2e/setup.sh"
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "Bail out! Chromium is missing: run .ci/install-deps --test"
  exit 1
fi

exec node --test --test-reporter=tap --test-concurrency=1 "$here/$1"
