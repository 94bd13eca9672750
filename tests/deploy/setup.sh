#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Installs the npm packages the deployment checks use (kubernetes-models,
# yaml, ws; pinned in package-lock.json) into tests/deploy/node_modules.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
