#!/usr/bin/env bash
# A real Prometheus, Alertmanager and node_exporter (Debian packages) on free
# loopback ports, plus `sentinel exporter` serving the demo cluster's metrics
# in kube-state-metrics / cAdvisor / kubelet shape. Tests and benchmarks use it
# to query a real Prometheus about a simulated cluster.
#
#   scripts/stack.sh up [--pods N] [--scrape-interval 2s] [--dir DIR] [--watch-pid PID]
#                                                start; prints KEY=VALUE lines;
#                                                with --watch-pid, stops by itself
#                                                when that process ends
#   scripts/stack.sh down DIR                    stop everything started in DIR
#   scripts/stack.sh stop DIR NAME               stop one daemon (prometheus,
#   scripts/stack.sh start DIR NAME              alertmanager, node, exporter)
#   scripts/stack.sh install                     install the packages only
#
# `up` prints STACK_DIR, PROMETHEUS_URL, ALERTMANAGER_URL, EXPORTER_URL and
# NODE_EXPORTER_URL. SENTINEL_BIN names the `sentinel` binary (default:
# target/debug/sentinel, built if missing). Daemons never inherit our stdout,
# so `$(scripts/stack.sh up)` returns.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACKAGES=(prometheus prometheus-alertmanager prometheus-node-exporter iproute2 curl)
NAMES=(node exporter alertmanager prometheus)

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

install() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=900 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A free TCP port on 127.0.0.1, not handed out before in this run. Taken
# below the kernel's ephemeral range, so an outgoing connection cannot be
# holding it by the time the daemon binds.
free_port() {
  local p low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 200); do
    p=$(( RANDOM % (low - 10000) + 10000 ))
    grep -qx "$p" "$DIR/ports" 2>/dev/null && continue
    ss -Htan "sport = :$p" | grep -q . && continue
    echo "$p" >>"$DIR/ports"
    echo "$p"; return 0
  done
  die "no free port found"
}

# Is PID alive, not a zombie, and started by this stack (cmdline names DIR)?
ours() {
  local pid=$1
  [ -r "/proc/$pid/status" ] || return 1
  grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 1
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$DIR" && return 0
  { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "SENTINEL_STACK_DIR=$DIR"
}

start_one() {
  local name=$1 cmd
  cmd=$(cat "$DIR/$name.cmd")
  # The daemon's own stdio goes to its log, never to the caller.
  SENTINEL_STACK_DIR=$DIR bash -c "exec $cmd" </dev/null >>"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

stop_one() {
  local name=$1 pid
  [ -f "$DIR/$name.pid" ] || return 0
  pid=$(cat "$DIR/$name.pid")
  if ours "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.1; done
    ours "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/$name.pid"
}

wait_http() {
  local url=$1 what=$2
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$what did not answer at $url (see $DIR/*.log)"
}

up() {
  local pods=40 watch_pid= scrape=2s
  DIR=
  while [ $# -gt 0 ]; do
    case $1 in
      --pods) pods=$2; shift 2 ;;
      --dir) DIR=$2; shift 2 ;;
      --watch-pid) watch_pid=$2; shift 2 ;;
      --scrape-interval) scrape=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  install
  local bin=${SENTINEL_BIN:-$ROOT/target/debug/sentinel}
  if [ ! -x "$bin" ]; then
    log "building sentinel"
    (cd "$ROOT" && cargo build -q -p sentinel-cli) >&2
  fi
  [ -n "$DIR" ] || DIR=$(mktemp -d /tmp/sentinel-stack.XXXXXX)
  mkdir -p "$DIR/textfile" "$DIR/am" "$DIR/tsdb"
  DIR=$(cd "$DIR" && pwd)
  local prom_port am_port node_port exp_port
  prom_port=$(free_port); am_port=$(free_port); node_port=$(free_port); exp_port=$(free_port)

  cat >"$DIR/am.yml" <<EOF
route:
  receiver: "null"
  group_by: [alertname, namespace]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: "null"
EOF
  cat >"$DIR/rules.yml" <<'EOF'
groups:
  - name: demo-cluster
    interval: 2s
    rules:
      - alert: Watchdog
        expr: vector(1)
        labels: {severity: none}
        annotations: {summary: "The alerting pipeline works."}
      - alert: KubePodCrashLooping
        expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[1m]) >= 1
        for: 10s
        labels: {severity: warning}
        annotations: {summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash looping."}
      - alert: KubePodNotReady
        expr: sum by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"}) > 0
        for: 30s
        labels: {severity: warning}
        annotations: {summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 30s."}
      - alert: KubeNodeNotReady
        expr: kube_node_status_condition{condition="Ready",status="true"} == 0
        for: 10s
        labels: {severity: critical}
        annotations: {summary: "Node {{ $labels.node }} is not ready."}
      - alert: HighErrorRate
        expr: sum by (namespace) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (namespace) (rate(http_requests_total[1m])) > 0.05
        for: 10s
        labels: {severity: critical}
        annotations: {summary: "More than 5% of requests in {{ $labels.namespace }} fail."}
EOF
  cat >"$DIR/prom.yml" <<EOF
global:
  scrape_interval: $scrape
  scrape_timeout: $scrape
  evaluation_interval: 2s
rule_files: [$DIR/rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$am_port"]}]
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ["127.0.0.1:$prom_port"]}]
  - job_name: node
    static_configs: [{targets: ["127.0.0.1:$node_port"]}]
  - job_name: kubernetes-demo
    static_configs: [{targets: ["127.0.0.1:$exp_port"]}]
EOF
  echo "prometheus-node-exporter --web.listen-address=127.0.0.1:$node_port --collector.textfile.directory=$DIR/textfile --no-collector.systemd" >"$DIR/node.cmd"
  echo "$bin exporter --listen 127.0.0.1:$exp_port --pods $pods" >"$DIR/exporter.cmd"
  echo "prometheus-alertmanager --config.file=$DIR/am.yml --storage.path=$DIR/am --web.listen-address=127.0.0.1:$am_port --cluster.listen-address=" >"$DIR/alertmanager.cmd"
  echo "prometheus --config.file=$DIR/prom.yml --storage.tsdb.path=$DIR/tsdb --web.listen-address=127.0.0.1:$prom_port --storage.tsdb.retention.time=100y --web.enable-lifecycle --web.enable-admin-api --rules.alert.resend-delay=1s" >"$DIR/prometheus.cmd"
  for n in "${NAMES[@]}"; do start_one "$n"; done
  if [ -n "$watch_pid" ]; then
    # A test binary that dies (or forgets) must not leave daemons behind.
    setsid bash -c "while kill -0 $watch_pid 2>/dev/null; do sleep 1; done; exec '$ROOT/scripts/stack.sh' down '$DIR'" \
      </dev/null >>"$DIR/watch.log" 2>&1 &
  fi

  wait_http "http://127.0.0.1:$exp_port/metrics" exporter
  wait_http "http://127.0.0.1:$am_port/-/ready" alertmanager
  wait_http "http://127.0.0.1:$prom_port/-/ready" prometheus
  # Ready is not data: wait until every target has been scraped once.
  local up=0
  for _ in $(seq 1 600); do
    up=$(curl -fsS --max-time 1 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=count(up == 1)' 2>/dev/null \
      | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)"\].*/\1/p')
    [ "${up:-0}" = 3 ] && break
    sleep 0.1
  done
  [ "${up:-0}" = 3 ] || die "targets not up after 60s (up=${up:-none}); see $DIR/prometheus.log"
  # Rates need two scrapes: wait until the dashboard's CPU query has data.
  local rated=
  for _ in $(seq 1 1200); do
    rated=$(curl -fsS --max-time 1 "http://127.0.0.1:$prom_port/api/v1/query" \
      --data-urlencode 'query=count(rate(container_cpu_usage_seconds_total[1m]))' 2>/dev/null \
      | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)"\].*/\1/p')
    [ -n "$rated" ] && break
    sleep 0.1
  done
  [ -n "$rated" ] || die "no CPU rates after 120s; see $DIR/prometheus.log"
  cat <<EOF
STACK_DIR=$DIR
PROMETHEUS_URL=http://127.0.0.1:$prom_port
ALERTMANAGER_URL=http://127.0.0.1:$am_port
EXPORTER_URL=http://127.0.0.1:$exp_port
NODE_EXPORTER_URL=http://127.0.0.1:$node_port
EOF
}

cmd=${1:-}
shift || true
case $cmd in
  install) install ;;
  up) up "$@" ;;
  down)
    DIR=${1:?usage: stack.sh down DIR}
    for n in "${NAMES[@]}"; do stop_one "$n"; done ;;
  stop) DIR=${1:?}; stop_one "${2:?}" ;;
  start) DIR=${1:?}; start_one "${2:?}" ;;
  *) die "usage: stack.sh up [--pods N] [--dir DIR] | down DIR | stop DIR NAME | start DIR NAME | install" ;;
esac
