#!/usr/bin/env bash
# Make sure the services the tests and the demo need answer on loopback:
#   RabbitMQ    127.0.0.1:5672 (guest/guest), 3.8 or newer (quorum queues)
#   PostgreSQL  127.0.0.1:5432 (trust auth for 127.0.0.1), database `test`
# Where a service already answers (as on the development machines), nothing is started.
# Otherwise the Debian package is installed if missing and the service is started:
#   - RabbitMQ as a broker owned by this script, with all its state in var/rabbitmq/;
#   - PostgreSQL as the machine's own cluster (pg_ctlcluster).
# Safe to run repeatedly and concurrently (a lock serialises runs on one machine).
#
# Usage: scripts/ensure-services.sh          ensure both services
#        scripts/ensure-services.sh stop     stop the broker this script started from this
#                                            checkout (and the epmd it started), if any
#
# Overrides (for testing this script; the defaults are what the project uses):
#   LOKET_RABBITMQ_PORT (5672), LOKET_RABBITMQ_NODE (loket@localhost, or loket-<port>@localhost
#   when the port is not 5672), LOKET_RABBITMQ_BASE (var/rabbitmq, or var/rabbitmq-<port>),
#   LOKET_RABBITMQ_START_TIMEOUT (120 s), LOKET_POSTGRES_PORT (5432),
#   LOKET_POSTGRES_CLUSTER (main), LOKET_POSTGRES_DB (test).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO}"
export DEBIAN_FRONTEND=noninteractive

RMQ_PORT="${LOKET_RABBITMQ_PORT:-5672}"
if [[ "${RMQ_PORT}" == 5672 ]]; then
    RMQ_NODE="${LOKET_RABBITMQ_NODE:-loket@localhost}"
    RMQ_BASE="${LOKET_RABBITMQ_BASE:-${REPO}/var/rabbitmq}"
else
    RMQ_NODE="${LOKET_RABBITMQ_NODE:-loket-${RMQ_PORT}@localhost}"
    RMQ_BASE="${LOKET_RABBITMQ_BASE:-${REPO}/var/rabbitmq-${RMQ_PORT}}"
fi
RMQ_TIMEOUT="${LOKET_RABBITMQ_START_TIMEOUT:-120}"
RMQ_BIN=/usr/lib/rabbitmq/bin
PG_PORT="${LOKET_POSTGRES_PORT:-5432}"
PG_CLUSTER="${LOKET_POSTGRES_CLUSTER:-main}"
PG_DB="${LOKET_POSTGRES_DB:-test}"
EPMD_PORT="${ERL_EPMD_PORT:-4369}"

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run: $*"
    fi
}

# port_open PORT: does something accept TCP connections on 127.0.0.1:PORT?
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT SECONDS
wait_port() {
    local deadline=$((SECONDS + $2))
    until port_open "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

deb_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

APT_UPDATED=0
apt_install() {
    local opts=(-qq -o DPkg::Lock::Timeout=300)
    if ((APT_UPDATED == 0)); then
        as_root apt-get "${opts[@]}" update >/dev/null 9>&-
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y \
        --no-install-recommends "$@" >/dev/null </dev/null 9>&-
}

# pid_alive PIDFILE EXPECTED_COMM: the PID in the file runs and its command name matches.
pid_alive() {
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(tr -d '[:space:]' <"$1")"
    [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/${pid}/comm" ]] || return 1
    # shellcheck disable=SC2053  # $2 is a glob on purpose (beam*)
    [[ "$(cat "/proc/${pid}/comm")" == $2 ]]
}

# ================================================================================================
# RabbitMQ
# ================================================================================================

# The environment of our own broker: every path inside RMQ_BASE, nothing from /etc/rabbitmq.
rmq_env() {
    export HOME="${RMQ_BASE}/home"
    export RABBITMQ_NODENAME="${RMQ_NODE}"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="${RMQ_PORT}"
    export RABBITMQ_MNESIA_BASE="${RMQ_BASE}/mnesia"
    export RABBITMQ_LOG_BASE="${RMQ_BASE}/log"
    export RABBITMQ_CONFIG_FILE="${RMQ_BASE}/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="${RMQ_BASE}/advanced.config"
    export RABBITMQ_CONF_ENV_FILE="${RMQ_BASE}/rabbitmq-env.conf"
    export RABBITMQ_ENABLED_PLUGINS_FILE="${RMQ_BASE}/enabled_plugins"
    export RABBITMQ_PID_FILE="${RMQ_BASE}/rabbitmq.pid"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT="${EPMD_PORT}"
    export ERL_CRASH_DUMP="${RMQ_BASE}/erl_crash.dump"
    # Erlang distribution (node <-> CLI) on loopback only.
    export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

rmq_ctl() { (rmq_env && "${RMQ_BIN}/rabbitmqctl" -n "${RMQ_NODE}" "$@"); }

rmq_write_config() {
    mkdir -p "${RMQ_BASE}/home" "${RMQ_BASE}/mnesia" "${RMQ_BASE}/log"
    chmod 700 "${RMQ_BASE}/home"
    cat >"${RMQ_BASE}/rabbitmq.conf" <<EOF
# Written by scripts/ensure-services.sh: a development broker on loopback only.
listeners.tcp.default = 127.0.0.1:${RMQ_PORT}
EOF
    # An empty env file, so that /etc/rabbitmq/rabbitmq-env.conf is not read.
    printf '# Written by scripts/ensure-services.sh\n' >"${RMQ_BASE}/rabbitmq-env.conf"
    printf '[].\n' >"${RMQ_BASE}/enabled_plugins"
    rmq_write_ctl_wrapper
}

# var/rabbitmq/rabbitmqctl: rabbitmqctl for our node, for people and for tests
# (test.sh exports it as LOKET_TEST_RABBITMQCTL). The plain `rabbitmqctl` talks to the
# package's node instead, which is not ours.
rmq_write_ctl_wrapper() {
    cat >"${RMQ_BASE}/rabbitmqctl" <<EOF
#!/bin/sh
# Written by scripts/ensure-services.sh: rabbitmqctl for the node ${RMQ_NODE}.
export HOME='${RMQ_BASE}/home' RABBITMQ_CONF_ENV_FILE='${RMQ_BASE}/rabbitmq-env.conf'
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT='${EPMD_PORT}'
export ERL_FLAGS='-kernel inet_dist_use_interface {127,0,0,1}'
exec '${RMQ_BIN}/rabbitmqctl' -n '${RMQ_NODE}' "\$@"
EOF
    chmod 755 "${RMQ_BASE}/rabbitmqctl"
}

rmq_start() {
    if ! deb_installed rabbitmq-server || [[ ! -x "${RMQ_BIN}/rabbitmq-server" ]]; then
        local t0=${SECONDS}
        say "installing rabbitmq-server (apt-get)"
        apt_install rabbitmq-server
        say "rabbitmq-server installed ($((SECONDS - t0)) s)"
        # Where service starts are allowed, the package may have started its own broker.
        if wait_port "${RMQ_PORT}" 3; then
            say "RabbitMQ answers on 127.0.0.1:${RMQ_PORT} (started by the package)"
            return 0
        fi
    fi
    [[ ${EUID} -eq 0 ]] || die "starting RabbitMQ needs root (or start it yourself on 127.0.0.1:${RMQ_PORT})"

    if pid_alive "${RMQ_BASE}/rabbitmq.pid" 'beam*'; then
        say "our broker ${RMQ_NODE} runs (PID $(cat "${RMQ_BASE}/rabbitmq.pid")) but 127.0.0.1:${RMQ_PORT} does not answer yet"
    else
        rm -f "${RMQ_BASE}/rabbitmq.pid"
        rmq_write_config
        # Remember whether epmd was already there: if we start it, we own it and stop it later.
        local epmd_before=1
        port_open "${EPMD_PORT}" || epmd_before=0
        say "starting RabbitMQ node ${RMQ_NODE} on 127.0.0.1:${RMQ_PORT} (state in ${RMQ_BASE#"${REPO}"/})"
        # 9>&-: the broker must not inherit (and so hold forever) the lock of this script.
        (rmq_env && cd "${RMQ_BASE}" && "${RMQ_BIN}/rabbitmq-server" -detached) \
            >>"${RMQ_BASE}/log/start.out" 2>&1 </dev/null 9>&- ||
            die "rabbitmq-server -detached failed; see ${RMQ_BASE}/log/"
        if ((epmd_before == 0)); then
            # epmd is started by the node and outlives it; record its PID to stop it ourselves.
            local pid=""
            for _ in $(seq 1 20); do
                pid="$(rmq_epmd_pid || true)"
                [[ -n "${pid}" ]] && break
                sleep 0.25
            done
            if [[ -n "${pid}" ]]; then
                echo "${pid}" >"${RMQ_BASE}/epmd.pid"
            fi
        fi
    fi

    # `await_startup` fails (exit 69) until the node has registered: retry until the deadline.
    local t0=${SECONDS} deadline=$((SECONDS + RMQ_TIMEOUT)) out=""
    until out="$(rmq_ctl -q await_startup 2>&1)"; do
        if ((SECONDS >= deadline)); then
            printf '%s\n' "${out}" >&2
            tail -n 30 "${RMQ_BASE}/log/${RMQ_NODE}.log" >&2 2>/dev/null || true
            die "RabbitMQ node ${RMQ_NODE} did not start within ${RMQ_TIMEOUT} s; logs in ${RMQ_BASE}/log/"
        fi
        sleep 1
    done
    wait_port "${RMQ_PORT}" 30 ||
        die "RabbitMQ node ${RMQ_NODE} runs but 127.0.0.1:${RMQ_PORT} does not answer"
    say "RabbitMQ node ${RMQ_NODE} started ($((SECONDS - t0)) s after start; PID $(cat "${RMQ_BASE}/rabbitmq.pid" 2>/dev/null || echo '?'))"
}

# The PID of the epmd listening on EPMD_PORT, found through /proc (no name matching).
rmq_epmd_pid() {
    local hexport inode fd pid
    hexport="$(printf '%04X' "${EPMD_PORT}")"
    # Listening sockets (state 0A) on that port, IPv4 and IPv6.
    # shellcheck disable=SC2013  # one inode per word
    for inode in $(awk -v p=":${hexport}" '$2 ~ p"$" && $4 == "0A" {print $10}' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
        for fd in /proc/[0-9]*/fd/*; do
            if [[ "$(readlink "${fd}" 2>/dev/null)" == "socket:[${inode}]" ]]; then
                pid="${fd#/proc/}"
                pid="${pid%%/*}"
                [[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == epmd ]] && { echo "${pid}"; return 0; }
            fi
        done
    done
    return 1
}

rmq_stop() {
    local pidfile="${RMQ_BASE}/rabbitmq.pid" pid
    if pid_alive "${pidfile}" 'beam*'; then
        pid="$(tr -d '[:space:]' <"${pidfile}")"
        say "stopping our RabbitMQ node ${RMQ_NODE} (PID ${pid})"
        (rmq_env && timeout 60 "${RMQ_BIN}/rabbitmqctl" -n "${RMQ_NODE}" -q stop) >/dev/null 2>&1 ||
            kill -TERM "${pid}" 2>/dev/null || true
        for _ in $(seq 1 60); do
            [[ -d "/proc/${pid}" ]] || break
            sleep 0.5
        done
        if [[ -d "/proc/${pid}" ]]; then
            say "node did not stop in 30 s; killing PID ${pid}"
            kill -KILL "${pid}" 2>/dev/null || true
        fi
    else
        say "no RabbitMQ node of ours runs from ${RMQ_BASE#"${REPO}"/}"
    fi
    rm -f "${pidfile}"
    if pid_alive "${RMQ_BASE}/epmd.pid" epmd; then
        pid="$(tr -d '[:space:]' <"${RMQ_BASE}/epmd.pid")"
        say "stopping the epmd we started (PID ${pid})"
        kill -TERM "${pid}" 2>/dev/null || true
    fi
    rm -f "${RMQ_BASE}/epmd.pid"
}

# The broker's version, read from the AMQP connection.start frame (no credentials, no CLI).
rmq_version() {
    python3 - "${RMQ_PORT}" <<'EOF'
import re, socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    s.sendall(b"AMQP\x00\x00\x09\x01")
    data = b""
    while len(data) < 7 or len(data) < 8 + int.from_bytes(data[3:7], "big"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
m = re.search(rb"\x07versionS\x00\x00\x00(.)", data, re.S)
if not m:
    sys.exit("no version in the broker's connection.start")
n = m.group(1)[0]
print(data[m.end():m.end() + n].decode())
EOF
}

ensure_rabbitmq() {
    if port_open "${RMQ_PORT}"; then
        say "RabbitMQ answers on 127.0.0.1:${RMQ_PORT}"
    else
        say "RabbitMQ does not answer on 127.0.0.1:${RMQ_PORT}"
        rmq_start
    fi
    local version major minor
    version="$(rmq_version)" || die "127.0.0.1:${RMQ_PORT} answers but does not speak AMQP 0-9-1"
    IFS=. read -r major minor _ <<<"${version}"
    if ((major < 3 || (major == 3 && minor < 8))); then
        die "RabbitMQ ${version} is too old: quorum queues need 3.8 or newer"
    fi
    say "RabbitMQ ${version} (quorum queues supported)"
}

# ================================================================================================
# PostgreSQL
# ================================================================================================

pg_psql() { psql -h 127.0.0.1 -p "${PG_PORT}" -U postgres -w -X -q -At "$@"; }

# The cluster configured for our port, as "VERSION NAME STATUS", from pg_lsclusters.
pg_cluster_for_port() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 1
    pg_lsclusters -h 2>/dev/null | awk -v p="${PG_PORT}" '$3 == p {print $1, $2, $4; exit}'
}

pg_newest_version() {
    find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
        awk -F/ '{print $5}' | sort -V | tail -n 1
}

pg_start() {
    [[ ${EUID} -eq 0 ]] || die "starting PostgreSQL needs root (or start it yourself on 127.0.0.1:${PG_PORT})"
    if ! deb_installed postgresql || [[ -z "$(pg_newest_version)" ]]; then
        local t0=${SECONDS}
        say "installing postgresql (apt-get)"
        apt_install postgresql
        say "postgresql installed ($((SECONDS - t0)) s)"
        if wait_port "${PG_PORT}" 3; then
            say "PostgreSQL answers on 127.0.0.1:${PG_PORT} (started by the package)"
            return 0
        fi
    fi
    local ver name status t0=${SECONDS}
    if ! read -r ver name status < <(pg_cluster_for_port); then
        # No cluster on our port: create one (a fresh package normally made `main` on 5432).
        ver="$(pg_newest_version)"
        name="${PG_CLUSTER}"
        [[ -n "${ver}" ]] || die "no PostgreSQL server binaries found under /usr/lib/postgresql"
        [[ ! -e "/etc/postgresql/${ver}/${name}" ]] ||
            die "cluster ${ver}/${name} exists but not on port ${PG_PORT}; see pg_lsclusters"
        say "creating PostgreSQL cluster ${ver}/${name} on port ${PG_PORT}"
        pg_createcluster "${ver}" "${name}" --port "${PG_PORT}" >/dev/null
        status=down
    fi
    pg_trust_loopback "${ver}" "${name}" || true
    if [[ "${status}" != online* ]]; then
        say "starting PostgreSQL cluster ${ver}/${name}"
        pg_ctlcluster --skip-systemctl-redirect "${ver}" "${name}" start </dev/null 9>&- ||
            die "pg_ctlcluster ${ver} ${name} start failed; see /var/log/postgresql/"
    fi
    wait_port "${PG_PORT}" 60 || die "PostgreSQL cluster ${ver}/${name} does not answer on 127.0.0.1:${PG_PORT}"
    say "PostgreSQL cluster ${ver}/${name} started ($((SECONDS - t0)) s)"
}

# Trust the postgres role from 127.0.0.1 and ::1 in the cluster's pg_hba.conf (first match wins,
# so the lines go first). Returns 0 if the file was changed.
pg_trust_loopback() {
    local hba="/etc/postgresql/$1/$2/pg_hba.conf"
    [[ -w "${hba}" ]] || return 1
    grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "${hba}" &&
        return 1
    say "setting trust authentication for 127.0.0.1 in ${hba}"
    local tmp
    tmp="$(mktemp)"
    {
        echo '# Added by loket-hub scripts/ensure-services.sh: development machine, loopback trust.'
        echo 'host    all             all             127.0.0.1/32            trust'
        echo 'host    all             all             ::1/128                 trust'
        cat "${hba}"
    } >"${tmp}"
    cat "${tmp}" >"${hba}"   # keep the file's owner and mode
    rm -f "${tmp}"
    return 0
}

ensure_postgres() {
    if port_open "${PG_PORT}"; then
        say "PostgreSQL answers on 127.0.0.1:${PG_PORT}"
    else
        say "PostgreSQL does not answer on 127.0.0.1:${PG_PORT}"
        pg_start
    fi
    if ! command -v psql >/dev/null 2>&1; then
        say "installing postgresql-client (apt-get)"
        apt_install postgresql-client
    fi
    local out
    if ! out="$(pg_psql -d postgres -c 'select 1' 2>&1)"; then
        # Password asked for? Switch the local cluster on this port to trust for loopback.
        local ver name status
        if read -r ver name status < <(pg_cluster_for_port) && pg_trust_loopback "${ver}" "${name}"; then
            pg_ctlcluster --skip-systemctl-redirect "${ver}" "${name}" reload </dev/null 9>&-
            sleep 1
            out="$(pg_psql -d postgres -c 'select 1' 2>&1)" ||
                die "cannot connect as postgres to 127.0.0.1:${PG_PORT} even after enabling trust: ${out}"
        else
            die "cannot connect as postgres to 127.0.0.1:${PG_PORT} without a password: ${out}"
        fi
    fi
    if [[ "$(pg_psql -d postgres -c "select 1 from pg_database where datname = '${PG_DB}'")" != 1 ]]; then
        say "creating database ${PG_DB}"
        pg_psql -d postgres -c "create database \"${PG_DB}\""
    fi
    say "$(pg_psql -d "${PG_DB}" -c "select split_part(version(), ' on ', 1)"), database ${PG_DB} ready"
}

# ================================================================================================

main() {
    case "${1:-ensure}" in
    ensure)
        mkdir -p "${REPO}/var"
        # One run at a time on this machine (several checkouts may share the services).
        exec 9>"/tmp/loket-hub-services.lock"
        flock -w 600 9 || die "could not take /tmp/loket-hub-services.lock within 600 s"
        local t0=${SECONDS}
        ensure_rabbitmq
        ensure_postgres
        say "ready ($((SECONDS - t0)) s)"
        ;;
    stop)
        rmq_stop
        ;;
    *)
        die "usage: $0 [ensure|stop]"
        ;;
    esac
}

main "$@"
