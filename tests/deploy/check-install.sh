#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# `meson install` into a temporary DESTDIR, then checks what a package ships:
# the binary (runs), the systemd user unit (rated below 5 by `systemd-analyze
# security --offline=true`), the D-Bus activation file and interface XML,
# the AppStream metainfo (`appstreamcli validate --no-net`), the manual page
# (renders, names every option of --help), the German catalogue; and that the
# Flatpak manifest parses and asks for no whole session bus.
#   check-install.sh [BUILD_DIR]    (default _build; run by .ci/test)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/_build}" && pwd)
MAX_EXPOSURE=5

fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
ok() { echo "check-install: $*"; }

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; fail "meson install failed"; }
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
p=$dest$prefix

need() { [ -f "$1" ] || fail "not installed: ${1#$dest}"; }
need "$p/bin/runner"
"$p/bin/runner" --version >/dev/null || fail "the installed runner does not run"
ok "bin/runner runs"

unit=$(find "$dest" -path '*/systemd/user/runner.service' | head -1)
[ -n "$unit" ] || fail "no systemd user unit runner.service"
grep -q "^ExecStart=$prefix/bin/runner serve" "$unit" || fail "the unit does not run $prefix/bin/runner"
exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 |
  sed -n 's/.*Overall exposure level for runner.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "systemd-analyze gave no exposure level"
python3 -c "import sys; sys.exit(0 if float('$exposure') < $MAX_EXPOSURE else 1)" ||
  fail "the unit's exposure is $exposure, not below $MAX_EXPOSURE"
ok "systemd user unit: exposure $exposure"

service=$p/share/dbus-1/services/io.github.runner.Runner.service
need "$service"
grep -q "^Exec=$prefix/bin/runner" "$service" || fail "the D-Bus service does not run $prefix/bin/runner"
need "$p/share/dbus-1/interfaces/io.github.runner.Runner1.xml"
ok "D-Bus activation file and interface"

metainfo=$p/share/metainfo/io.github.runner.Runner.metainfo.xml
need "$metainfo"
appstreamcli validate --no-net "$metainfo" >/dev/null || { appstreamcli validate --no-net "$metainfo"; fail "metainfo does not validate"; }
ok "metainfo validates"

man=$p/share/man/man1/runner.1
need "$man"
rendered=$(MANWIDTH=100 man -l "$man" 2>"$dest/man.err" | col -b)
[ ! -s "$dest/man.err" ] || { cat "$dest/man.err"; fail "the manual page renders with warnings"; }
for option in $("$p/bin/runner" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -q -- "$option" <<<"$rendered" || fail "the manual page does not document $option"
done
ok "manual page documents every option"

mo=$p/share/locale/de/LC_MESSAGES/runner.mo
need "$mo"
grep -q 'Arbeitsbereich' <<<"$(msgunfmt "$mo")" || fail "the German catalogue has no translations"
ok "German catalogue"

python3 - "$root/flatpak/io.github.runner.Runner.json" <<'PY' || fail "the Flatpak manifest is wrong"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["id"] == "io.github.runner.Runner", "id"
assert "--socket=session-bus" not in m["finish-args"], "asks for the whole session bus"
assert "--own-name=io.github.runner.Runner" in m["finish-args"], "does not own its name"
PY
ok "Flatpak manifest"
