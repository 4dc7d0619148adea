#!/usr/bin/env bash
# Development set-up for loket-hub: Debian packages, the virtual environment, development keys.
# Idempotent and fast when everything is already in place; safe without a terminal (CI).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Debian packages:
#   xmlsec1        the independent signature verifier the tests call
#   poppler-utils  pdfsig
#   pkg-config libxmlsec1-dev libxml2-dev build-essential
#                  only needed when the xmlsec wheel must be built from source
#   fonts-dejavu-core  the PDF certificates' font (accents such as Ś, Ł)
#   chromium       the operator page's browser test (Playwright drives Debian's browser)
#   faketime       libfaketime: scripts/test.sh runs the date-sensitive tests 45 days ahead
DEB_PACKAGES=(xmlsec1 poppler-utils pkg-config libxmlsec1-dev libxml2-dev build-essential fonts-dejavu-core chromium faketime)

as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run: $*"
    fi
}

missing_debs() {
    local pkg
    for pkg in "$@"; do
        if [[ "$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null)" != "install ok installed" ]]; then
            printf '%s\n' "${pkg}"
        fi
    done
}

# --- 1. Debian packages ------------------------------------------------------------------------
t0=${SECONDS}
mapfile -t missing < <(missing_debs "${DEB_PACKAGES[@]}")
if ((${#missing[@]} == 0)); then
    step "Debian packages present"
else
    step "installing Debian packages: ${missing[*]}"
    apt_opts=(-qq -o DPkg::Lock::Timeout=300)
    as_root apt-get "${apt_opts[@]}" update >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
        --no-install-recommends "${missing[@]}" >/dev/null
    mapfile -t still < <(missing_debs "${DEB_PACKAGES[@]}")
    ((${#still[@]} == 0)) || die "still missing after apt-get install: ${still[*]}"
    step "Debian packages installed ($((SECONDS - t0)) s)"
fi

# --- 2. Virtual environment --------------------------------------------------------------------
if [[ -x .venv/bin/python ]] && .venv/bin/python -c 'import sys' 2>/dev/null; then
    step "virtual environment .venv present"
else
    t0=${SECONDS}
    rm -rf .venv
    python3 -m venv .venv || die "python3 -m venv failed (is python3-venv installed?)"
    step "virtual environment .venv created ($((SECONDS - t0)) s)"
fi

# --- 3. The project and its development tools --------------------------------------------------
if [[ -f .venv/.installed && .venv/.installed -nt pyproject.toml && .venv/.installed -nt constraints.txt ]]; then
    step "project installed in .venv (up to date)"
else
    t0=${SECONDS}
    step "installing the project into .venv (pip install -c constraints.txt -e '.[dev]')"
    rm -f .venv/.installed
    # (The filter drops pip's noise about this machine's configured local indexes being absent.)
    # constraints.txt holds the versions CI last passed with, so a release made today cannot
    # break a run (cryptography 51 did: a DeprecationWarning on pyHanko's import).
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]' </dev/null \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    # lxml and xmlsec must share one libxml2; importing both catches a mismatched pair now.
    .venv/bin/python -c 'import lxml.etree, xmlsec' ||
        die "lxml and xmlsec do not import together (libxml2 version mismatch?)"
    touch .venv/.installed
    step "project installed ($((SECONDS - t0)) s)"
fi

# --- 4. Development keys -----------------------------------------------------------------------
.venv/bin/python -c 'from pathlib import Path; from hub.devpki import generate_dev_pki; generate_dev_pki(Path("var/dev-pki"))'
step "development keys in var/dev-pki"
