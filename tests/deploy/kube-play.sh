#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
#
# Plays the pod of data/deploy/base/runner.yaml with `podman kube play`
# against the S3 test server and checks, in order:
#   restore       objects put in the bucket first are in the workspace
#   serve         /healthz answers through the pod's port
#   write-through an updateContent over the socket reaches the bucket
#   stop          a write just before Runner's container is stopped is flushed
#                 on SIGTERM (no "S3 sync not flushed" warning), and Runner
#                 exits 0
#   kube-play.sh IMAGE     (run by .ci/image after it built IMAGE)
# KEEP_POD=1 keeps the pod, its volume and the S3 server's log to look at;
# S3_LOG=1 has the server log every request.
# The S3 test server listens on 127.0.0.1; a forwarder on the podman
# network's gateway (10.89.0.1 by default) lets the pod reach it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: kube-play.sh IMAGE}
podman=(podman --runtime runc)
name=runner-kube-check
bucket=runner-kube
repl=kube-check
prefix=code/$repl/

log() { echo "kube-play: $*"; }
fail() { echo "kube-play: FAIL: $*" >&2; exit 1; }
command -v aws >/dev/null || fail "awscli is not installed"

work=$(mktemp -d)
pids=()
remove_pod() {
  podman pod rm -f -t 0 "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$name-state" >/dev/null 2>&1 || true
  podman secret rm runner-s3 runner-token >/dev/null 2>&1 || true
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${KEEP_POD:-}" ]; then
    echo "kube-play: kept the pod, its volume and $work"
  else
    rm -rf "$work"
    remove_pod
  fi
}
trap cleanup EXIT
remove_pod   # what an interrupted run left

# The S3 test server, as the s3 suite installs it.
"$here/../s3/setup.sh" "$here/node_modules/.s3-test-server"
# Every request takes a second, so that the last write is still in flight
# when the pod is stopped: only the flush on SIGTERM gets it there.
S3_LOG=${S3_LOG:-0} S3_FAULT_LATENCY_MS=1000 S3_PORT=0 S3_DIR="$work/objects" S3_BUCKETS=$bucket node "$here/node_modules/.s3-test-server/server.js" >"$work/s3.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening ' "$work/s3.log" && break; sleep 0.1; done
s3_port=$(sed -n 's/^listening //p' "$work/s3.log")
[ -n "$s3_port" ] || { cat "$work/s3.log"; fail "the S3 test server did not start"; }
export AWS_ACCESS_KEY_ID=runner-test AWS_SECRET_ACCESS_KEY=runner-secret AWS_DEFAULT_REGION=us-east-1
s3() { aws --endpoint-url "http://127.0.0.1:$s3_port" s3 "$@"; }

# The pod network's gateway, and a forwarder there to the server.
# (kube play's own network, made here when it is not there yet).
network=podman-default-kube-network
podman network exists $network || podman network create $network >/dev/null
gateway=$(podman network inspect $network --format '{{range .Subnets}}{{.Gateway}}{{end}}')
[ -n "$gateway" ] || fail "no gateway on $network"
node -e '
  const net = require("net");
  const [port] = process.argv.slice(1);
  const server = net.createServer((c) => {
    const s = net.connect(Number(port), "127.0.0.1");
    c.pipe(s).pipe(c);
    c.on("error", () => s.destroy());
    s.on("error", () => c.destroy());
  });
  server.listen(0, "0.0.0.0", () => console.log(`forwarding ${server.address().port}`));
' "$s3_port" >"$work/forward.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^forwarding ' "$work/forward.log" && break; sleep 0.1; done
fwd_port=$(sed -n 's/^forwarding //p' "$work/forward.log")
[ -n "$fwd_port" ] || fail "the forwarder did not start"

# restore: what is in the bucket before the pod starts.
echo "restored from the bucket" >"$work/restored.txt"
s3 cp --quiet "$work/restored.txt" "s3://$bucket/${prefix}docs/restored.txt"

# Secrets as podman 4.3's kube play reads them: JSON maps of base64 values.
b64() { printf %s "$1" | base64 -w0; }
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '{"S3_BUCKET":"%s","AWS_ACCESS_KEY_ID":"%s","AWS_SECRET_ACCESS_KEY":"%s","AWS_REGION":"%s"}' \
  "$(b64 $bucket)" "$(b64 runner-test)" "$(b64 runner-secret)" "$(b64 us-east-1)" | podman secret create runner-s3 - >/dev/null
printf '{"RUNNER_TOKEN":"%s"}' "$(b64 "$token")" | podman secret create runner-token - >/dev/null

host_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node "$here/render-pod.mjs" "$name" "$image" "$host_port" \
  "REPL_ID=$repl" "S3_ENDPOINT=http://$gateway:$fwd_port" "RUNNER_ALLOWED_HOSTS=127.0.0.1" >"$work/pod.yaml"
"${podman[@]}" kube play "$work/pod.yaml" >"$work/play.log" 2>&1 || { cat "$work/play.log"; podman pod logs "$name" || true; fail "podman kube play failed"; }

url=http://127.0.0.1:$host_port
for _ in $(seq 300); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
[ "$(curl -fsS "$url/healthz" 2>/dev/null)" = ok ] ||
  { podman pod logs "$name" || true; fail "/healthz does not answer"; }
log "serve: /healthz answers"

restored=$(podman exec "$name-runner" cat /workspace/docs/restored.txt) ||
  { podman pod logs "$name" || true; fail "the workspace was not restored"; }
[ "$restored" = "restored from the bucket" ] || fail "restored content differs: $restored"
# (podman removes the initContainer once it has run; kube play fails when
# it exits non-zero, so sync-down succeeded.)
log "restore: the bucket's object is in the workspace"

node "$here/ws-check.mjs" "$url" "$token" terminal write:through.txt=written-through
for _ in $(seq 150); do
  s3 cp --quiet "s3://$bucket/${prefix}through.txt" "$work/through.txt" 2>/dev/null && break
  sleep 0.2
done
[ "$(cat "$work/through.txt" 2>/dev/null)" = written-through ] ||
  { podman pod logs "$name" || true; fail "the write did not reach the bucket"; }
log "write-through: the write reached the bucket"

node "$here/ws-check.mjs" "$url" "$token" write:last.txt=flushed-on-stop
# Runner first, then the pod, the order in which Kubernetes stops one: its
# network stays until every container has exited. Podman 4.3's `pod stop`
# stops the infra container at once, and with it goes the pod's network:
# the answer to the upload still in flight never arrives, Runner waits out
# its flush bound (20 s) and keeps the change in its journal.
start=$(date +%s%N)
podman stop -t 45 "$name-runner" >/dev/null
took_ms=$((($(date +%s%N) - start) / 1000000))
podman pod stop -t 45 "$name" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name-runner")
[ "$code" = 0 ] || { podman pod logs "$name" || true; fail "Runner exited $code on stop"; }
if podman logs "$name-runner" 2>&1 | grep -q "S3 sync not flushed"; then
  podman pod logs "$name" || true
  fail "the last write was not flushed on stop"
fi
s3 cp --quiet "s3://$bucket/${prefix}last.txt" "$work/last.txt" ||
  fail "the last write was not flushed on stop"
[ "$(cat "$work/last.txt")" = flushed-on-stop ] || fail "the flushed object differs"
log "stop: exit 0 after $took_ms ms, the last write flushed"
