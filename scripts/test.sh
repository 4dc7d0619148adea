#!/usr/bin/env bash
# The whole check: set-up, services, ruff, mypy, the import rings (lint-imports), then pytest
# (extra arguments go to pytest).
# Runs every check even when an earlier one fails, and exits non-zero if any failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stage() { printf '\n==> %s\n' "$*"; }

stage "set-up"
bash scripts/setup.sh
stage "services"
bash scripts/ensure-services.sh

export LOKET_TEST_AMQP_URL="${LOKET_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
export LOKET_TEST_POSTGRES_DSN="${LOKET_TEST_POSTGRES_DSN:-postgresql://postgres@127.0.0.1:5432/test}"
# Where ensure-services.sh had to start its own broker, `rabbitmqctl` alone would reach the
# package's node, not ours: tests that drive the broker use this one.
# (The same folder as ensure-services.sh picks: var/rabbitmq, or var/rabbitmq-<port>.)
rmq_port="${LOKET_RABBITMQ_PORT:-5672}"
rmq_base="${LOKET_RABBITMQ_BASE:-${PWD}/var/rabbitmq$([[ ${rmq_port} == 5672 ]] || echo "-${rmq_port}")}"
if [[ -z "${LOKET_TEST_RABBITMQCTL:-}" && -s "${rmq_base}/rabbitmq.pid" && -x "${rmq_base}/rabbitmqctl" ]] &&
    [[ -d "/proc/$(tr -d '[:space:]' <"${rmq_base}/rabbitmq.pid")" ]]; then
    export LOKET_TEST_RABBITMQCTL="${rmq_base}/rabbitmqctl"
    echo "test.sh: broker started by ensure-services.sh; LOKET_TEST_RABBITMQCTL=${LOKET_TEST_RABBITMQCTL}"
fi

failed=()
declare -A took=()

run() {
    local name="$1" t0=${SECONDS} rc=0
    shift
    stage "${name}: $*"
    "$@" || rc=$?
    took[${name}]=$((SECONDS - t0))
    return "${rc}"
}

run ruff .venv/bin/ruff check . || failed+=(ruff)
run mypy .venv/bin/mypy hub adapters simulators loket_hub benchmarks || failed+=(mypy)
# The rings of pyproject.toml's [tool.importlinter]: core, runtime, composition root, adapters.
run lint-imports .venv/bin/lint-imports --no-logo || failed+=(lint-imports)

rc=0
run pytest .venv/bin/python -m pytest -q "$@" || rc=$?
case "${rc}" in
0) ;;
5)
    echo "test.sh: pytest collected no tests (exit 5): that counts as a failure" >&2
    failed+=(pytest)
    ;;
*) failed+=(pytest) ;;
esac

# The date-sensitive tests (marker `clock`, listed in tests/conftest.py) once more with the
# clock 45 days ahead: libfaketime moves the clock of pytest and of everything it starts
# (xmlsec1, pdfsig, `loket-hub verify`), so a test that signs at a fixed date with a certificate
# made at run time fails here on the day it is written. The monotonic clock moves by the same
# offset (libfaketime's default): with it left real, libfaketime's clock_nanosleep fails EINVAL.
# Only on a whole run: `make test ARGS='...'` runs what it names, nothing more.
if (($# == 0)); then
    clock_rc=0
    shift_s=$(($(faketime -f '+45d' date +%s) - $(date +%s)))
    if ((shift_s < 45 * 86400 - 60 || shift_s > 45 * 86400 + 60)); then
        echo "test.sh: faketime did not move the clock 45 days ahead (moved ${shift_s} s)" >&2
        failed+=(clock+45d)
    else
        run clock+45d faketime -f '+45d' \
            .venv/bin/python -m pytest -q -p no:cacheprovider -m clock || clock_rc=$?
        ((clock_rc == 0)) || failed+=(clock+45d)
    fi
fi

printf '\n==> summary: ruff %s s, mypy %s s, lint-imports %s s, pytest %s s, clock+45d %s s\n' \
    "${took[ruff]}" "${took[mypy]}" "${took[lint-imports]}" "${took[pytest]}" \
    "${took[clock+45d]:-0}"
if ((${#failed[@]} > 0)); then
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "test.sh: all checks passed"
