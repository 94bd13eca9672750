#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the npm packages the browser test drives (playwright-core, pinned
# in package-lock.json) into tests/e2e/node_modules. The browser is Debian's Chromium.
set -eu
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
