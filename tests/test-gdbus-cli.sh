#!/bin/sh
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Drives Runner's D-Bus interface with the gdbus command-line tool and
# `runner status`, on a private dbus-daemon that this script starts and
# stops. TAP output.
set -u

runner=${RUNNER_BINARY:?RUNNER_BINARY must name the built runner}
name=io.github.runner.Runner
path=/io/github/runner/Runner
iface=io.github.runner.Runner1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runner-gdbus-XXXXXX")
bus_pid=
runner_pid=
n=0
failed=0

cleanup () {
  if [ -n "$runner_pid" ]; then kill "$runner_pid" 2>/dev/null; wait "$runner_pid" 2>/dev/null; fi
  if [ -n "$bus_pid" ]; then kill "$bus_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () {
  n=$((n + 1)); echo "not ok $n - $1"; failed=1
  shift
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}
# expect DESCRIPTION TEXT OUTPUT: passes when OUTPUT contains TEXT
expect () {
  case "$3" in
    *"$2"*) ok "$1" ;;
    *) not_ok "$1" "expected: $2" "got: $3" ;;
  esac
}
bail () { echo "Bail out! $1"; exit 1; }

call () {
  gdbus call --session --timeout 30 --dest "$name" --object-path "$path" --method "$@" 2>&1
}
get () {
  call org.freedesktop.DBus.Properties.Get "$iface" "$1"
}

# A private bus: no service files, so nothing can be activated.
cat > "$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
bus=$(dbus-daemon --config-file="$tmp/bus.conf" --fork --print-address=1 --print-pid=1) ||
  bail "cannot start dbus-daemon"
DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$bus" | sed -n 1p)
bus_pid=$(printf '%s\n' "$bus" | sed -n 2p)
export DBUS_SESSION_BUS_ADDRESS
unset DBUS_STARTER_ADDRESS DBUS_STARTER_BUS_TYPE RUNNER_DBUS

# Nothing there yet.
status_out=$("$runner" status 2>&1); rc=$?
expect "status with no Runner exits 1" "rc=1" "rc=$rc"
expect "status with no Runner says so" "no Runner is running on the session bus" "$status_out"

# HOME of its own: shells read no rc file of the machine's.
mkdir "$tmp/home"
HOME="$tmp/home" RUNNER_TOKEN=gdbus-test-token RUNNER_MAX_TERMINALS=1 "$runner" serve --port=0 \
  --bind=127.0.0.1 --workspace="$tmp/ws" --dbus=session >"$tmp/out" 2>"$tmp/err" &
runner_pid=$!

gdbus wait --session --timeout 30 "$name" || bail "runner did not take $name: $(cat "$tmp/err")"
ok "runner owns $name"

port=$(sed -n 's|^Runner listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/out")
[ -n "$port" ] || bail "no listening line: $(cat "$tmp/out" "$tmp/err")"
version=$("$runner" --version | sed 's/^runner //')
workspace=$(realpath "$tmp/ws")

introspection=$(gdbus introspect --session --dest "$name" --object-path "$path" 2>&1)
expect "introspect shows the interface" "interface $iface {" "$introspection"
for member in "Sync();" "OpenTerminal(in  u cols," "CloseTerminal(in  s id);" "Shutdown();" \
              "ClientConnected(s id," "ClientDisconnected(s id);" "SyncCompleted(b ok," \
              "readonly s Version = '$version';" "readonly s Workspace = '$workspace';" \
              "readonly u Port = $port;" "readonly u AppPort = 3000;" "readonly u Clients = 0;" \
              "readonly u Terminals = 0;" "readonly a{sv} SyncState" "readonly t Uptime = "; do
  expect "introspect shows $member" "$member" "$introspection"
done

expect "Get Version" "(<'$version'>,)" "$(get Version)"
expect "Get Port" "(<uint32 $port>,)" "$(get Port)"
expect "Get Workspace" "(<'$workspace'>,)" "$(get Workspace)"
expect "Get Clients" "(<uint32 0>,)" "$(get Clients)"
expect "Get SyncState" "'state': <'disabled'>" "$(get SyncState)"
expect "Get Uptime" "(<uint64 " "$(get Uptime)"
expect "GetAll" "'AppPort': <uint32 3000>" "$(call org.freedesktop.DBus.Properties.GetAll "$iface")"
expect "Set of a read-only property fails" "Error" \
  "$(call org.freedesktop.DBus.Properties.Set "$iface" Clients '<uint32 5>')"
expect "Clients unchanged" "(<uint32 0>,)" "$(get Clients)"

expect "OpenTerminal 0x24 is Invalid" "$iface.Error.Invalid" "$(call "$iface.OpenTerminal" 0 24)"
expect "OpenTerminal 80x2000 is Invalid" "$iface.Error.Invalid" "$(call "$iface.OpenTerminal" 80 2000)"
opened=$(call "$iface.OpenTerminal" 80 24)
id=$(printf '%s\n' "$opened" | sed -n "s/^('\([^']*\)',)\$/\1/p")
if [ -n "$id" ]; then ok "OpenTerminal gives an id"; else not_ok "OpenTerminal gives an id" "got: $opened"; fi
expect "Terminals is 1" "(<uint32 1>,)" "$(get Terminals)"
expect "OpenTerminal over RUNNER_MAX_TERMINALS is Limit" "$iface.Error.Limit" \
  "$(call "$iface.OpenTerminal" 80 24)"
expect "Terminals is still 1" "(<uint32 1>,)" "$(get Terminals)"
status_out=$("$runner" status 2>&1)
expect "status counts the terminal" "Terminals:   1" "$status_out"
expect "CloseTerminal" "()" "$(call "$iface.CloseTerminal" "$id")"
expect "Terminals is 0" "(<uint32 0>,)" "$(get Terminals)"
expect "CloseTerminal again is NotFound" "$iface.Error.NotFound" "$(call "$iface.CloseTerminal" "$id")"
expect "CloseTerminal of an unknown id is NotFound" "$iface.Error.NotFound" \
  "$(call "$iface.CloseTerminal" no-such-id)"
expect "Sync without S3 is Unavailable" "$iface.Error.Unavailable" "$(call "$iface.Sync")"

status_out=$("$runner" status 2>&1); rc=$?
expect "status exits 0" "rc=0" "rc=$rc"
expect "status names the Runner" "Runner $version on the session bus" "$status_out"
expect "status shows the port" "Port:        $port" "$status_out"
expect "status shows the workspace" "Workspace:   $workspace" "$status_out"
expect "status shows sync" "Sync:        off" "$status_out"
expect "status --json" "\"Port\" : $port" "$("$runner" status --json 2>&1)"

expect "Shutdown" "()" "$(call "$iface.Shutdown")"
wait "$runner_pid"; rc=$?
runner_pid=
expect "runner exits 0 after Shutdown" "rc=0" "rc=$rc"
if [ "$rc" != 0 ]; then not_ok "runner's stderr" "$(cat "$tmp/err")"; fi

status_out=$("$runner" status 2>&1); rc=$?
expect "status after Shutdown exits 1" "rc=1" "rc=$rc"
expect "status after Shutdown says so" "no Runner is running on the session bus" "$status_out"

echo "1..$n"
exit $failed
