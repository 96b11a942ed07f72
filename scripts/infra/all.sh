#!/usr/bin/env bash
# The real servers the distributed stage needs: Kafka, FerretDB (MongoDB protocol), NATS and QuestDB
# (the market data store).
#   scripts/infra/all.sh {install|start|stop|restart|status|env|smoke|clean}
# install and start run them in parallel; `start` and `env` print, on stdout, the
# environment a test needs, one KEY=VALUE a line:
#   set -a; eval "$(scripts/infra/all.sh start)"; set +a     # or: env $(scripts/infra/all.sh env) npm test
# smoke: with the servers started, checks each with the project's npm clients (smoke.cjs),
# then restarts Kafka and checks that its topic and message survived.
# Ports: KAFKA_PORT (9092), FERRETDB_PORT (27017), NATS_PORT (4222), QUESTDB_HTTP_PORT (9000) and
# QUESTDB_PG_PORT (8812); see each script for more.
INFRA_NAME=all
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(nats ferretdb kafka questdb)

print_env() {
  printf 'KAFKA_BROKERS=%s:%s\n' "$INFRA_HOST" "${KAFKA_PORT:-9092}"
  printf 'MONGO_URI=mongodb://%s:%s/tbp\n' "$INFRA_HOST" "${FERRETDB_PORT:-27017}"
  printf 'TRANSPORTER=nats://%s:%s\n' "$INFRA_HOST" "${NATS_PORT:-4222}"
  printf 'QUESTDB_HTTP=http://%s:%s\n' "$INFRA_HOST" "${QUESTDB_HTTP_PORT:-9000}"
  printf 'QUESTDB_PG=postgresql://admin:quest@%s:%s/qdb\n' "$INFRA_HOST" "${QUESTDB_PG_PORT:-8812}"
}

# run_each MODE CMD: run CMD of every service, in parallel or in series; every service is
# tried, and the call fails naming those that failed. Their stdout goes to our stderr.
run_each() {
  local mode=$1 cmd=$2 s i failed=() pids=()
  if [[ $mode == parallel ]]; then
    for s in "${SERVICES[@]}"; do
      "$INFRA_DIR/$s.sh" "$cmd" >&2 &
      pids+=("$!")
    done
    for i in "${!SERVICES[@]}"; do
      wait "${pids[$i]}" || failed+=("${SERVICES[$i]}")
    done
  else
    for s in "${SERVICES[@]}"; do
      "$INFRA_DIR/$s.sh" "$cmd" >&2 || failed+=("$s")
    done
  fi
  ((${#failed[@]} == 0)) || die "'$cmd' failed for: ${failed[*]} (logs under $INFRA_RUN/<service>/)"
}

main() {
  local cmd=${1:-} start rc=0 s
  start=$(now_ms)
  case $cmd in
    install)
      run_each parallel install
      log "all installed in $(since "$start")"
      ;;
    start)
      # Install first (in parallel), then start (in parallel): each start waits until its
      # server answers a real client.
      run_each parallel install
      run_each parallel start
      log "all started in $(since "$start")"
      print_env
      ;;
    stop) run_each serial stop ;;
    restart)
      run_each serial stop
      run_each parallel start
      print_env
      ;;
    status)
      for s in "${SERVICES[@]}"; do
        "$INFRA_DIR/$s.sh" status || rc=3
      done
      return "$rc"
      ;;
    env) print_env ;;
    smoke)
      need_node_module kafkajs
      need_node_module mongodb
      need_node_module nats
      need_node_module pg
      main status >/dev/null || die "not all running: '$0 start' first"
      SMOKE_ID="$$-$(now_ms)"
      export SMOKE_ID
      # shellcheck disable=SC2046 # KEY=VALUE words
      env $(print_env) "$(node_bin)" "$INFRA_DIR/smoke.cjs" all || die "smoke test failed"
      "$INFRA_DIR/kafka.sh" restart >&2 || die "Kafka restart failed"
      # shellcheck disable=SC2046
      env $(print_env) "$(node_bin)" "$INFRA_DIR/smoke.cjs" kafka-kept || die "Kafka lost data across a restart"
      log "smoke test passed in $(since "$start")"
      ;;
    clean) run_each serial clean ;;
    *)
      echo "usage: $0 {install|start|stop|restart|status|env|smoke|clean}" >&2
      return 2
      ;;
  esac
}

main "$@"
