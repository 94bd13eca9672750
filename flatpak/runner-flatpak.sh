#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Runner inside Flatpak: the workspace defaults to a folder of the app's own
# data (~/.var/app/io.github.runner.Runner/data/runner/workspace), never to
# ./workspace of wherever it was started. WORKSPACE still overrides it (give
# the sandbox access to that folder with `flatpak override --filesystem=`).
: "${WORKSPACE:=${XDG_DATA_HOME:-$HOME/.local/share}/runner/workspace}"
export WORKSPACE
exec /app/bin/runner "$@"
