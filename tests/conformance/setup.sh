#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the npm package the conformance tests use for raw WebSockets (ws,
# pinned in package-lock.json) into tests/conformance/node_modules.
set -eu
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
