#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Builds the libFuzzer targets with clang in their own build dir and runs each
# for a bounded time. Usage: tests/fuzz/run-fuzz.sh [SECONDS] (default 20).
# FUZZ_BUILD_DIR overrides the build dir (default: _build-fuzz in the tree).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/_build-fuzz}
seconds=${1:-20}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$src" -Dfuzzing=true -Dtests=true
fi

for target in eio; do
  meson compile -C "$build" "fuzz-$target"
  corpus="$build/fuzz-corpus/$target"
  mkdir -p "$corpus"
  cp "$src/tests/fuzz/corpus/$target/"* "$corpus/"
  "$build/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus"
done
