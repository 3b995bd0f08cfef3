#!/usr/bin/env bash
# N replicas of the lab on loopback ports, HAProxy in front of them (deploy/haproxy.cfg); Ctrl-C stops all.
#
#   deploy/serve.sh [N]         N = 1..8 replicas (default 2) → http://localhost:8501
#
# Environment: LAB_PORT (8501) the proxy's port, LAB_REPLICA_PORT (8601) the first replica's port,
# LAB_RUN_DIR (a new temporary folder) where the logs and pid files go, LAB_JOBS (1) long jobs per replica.
# Needs Debian's haproxy (apt-get install haproxy) and the lab's requirements.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2}
if ! [[ "$N" =~ ^[1-8]$ ]]; then
  echo "deploy/serve.sh: N is a number of replicas from 1 to 8 (deploy/haproxy.cfg names eight), not '$N'" >&2
  exit 2
fi
command -v haproxy >/dev/null || { echo "deploy/serve.sh: haproxy not found; install it: apt-get install haproxy" >&2; exit 1; }
PORT=${LAB_PORT:-8501}
FIRST=${LAB_REPLICA_PORT:-8601}
RUN=${LAB_RUN_DIR:-$(mktemp -d -t lab-serve.XXXXXX)}
mkdir -p "$RUN"

loops=()
stop() {
  trap - INT TERM EXIT
  kill "${loops[@]}" 2>/dev/null || true  # first the loops, so that no replica is started again
  for f in "$RUN"/replica*.pid "$RUN"/haproxy.pid; do
    [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# One replica, started again 2 s after it dies (HAProxy marks it up once it answers its health check).
replica() {
  local i=$1 port=$2
  while true; do
    python -m streamlit run app.py --server.address 127.0.0.1 --server.port "$port" --server.headless true &
    echo "$!" >"$RUN/replica$i.pid"
    wait "$!" || echo "deploy/serve.sh: replica $i (port $port) exited with status $?; starting it again in 2 s"
    sleep 2
  done
}

for i in $(seq 1 "$N"); do
  port=$((FIRST + i - 1))
  export "LAB$i=127.0.0.1:$port"
  replica "$i" "$port" >>"$RUN/replica$i.log" 2>&1 &
  loops+=("$!")
done
export LAB_BIND=":$PORT"
# -db: in the foreground, so Ctrl-C reaches it; its log (one line per request) goes to haproxy.log.
haproxy -db -f deploy/haproxy.cfg >"$RUN/haproxy.log" 2>&1 &
proxy=$!
echo "$proxy" >"$RUN/haproxy.pid"
echo "Unsupervised Lab on http://localhost:$PORT: $N replicas on 127.0.0.1:$FIRST..$((FIRST + N - 1)) behind HAProxy"
echo "  replica status: http://127.0.0.1:8404/stats   logs and pids: $RUN   Ctrl-C stops all"
# Wait on the proxy alone: a replica that dies is HAProxy's to route around (and ours to start again).
wait "$proxy"
