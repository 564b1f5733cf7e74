#!/usr/bin/env bash
# End-to-end test of the web dashboard, against an aurum that is already running (this script
# starts nothing). Installs Debian's chromium + chromium-driver when missing and Selenium into a
# venv (${AURUM_E2E_VENV:-.venv-e2e}), then runs scripts/dashboard_e2e.py with the given arguments:
#
#   scripts/dashboard-e2e.sh --base-url http://127.0.0.1:PORT --token TOKEN --screenshot PATH
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if [ "${#need[@]}" -gt 0 ]; then
    echo "dashboard-e2e: installing ${need[*]}"
    apt_install "${need[@]}"
fi

venv="${AURUM_E2E_VENV:-.venv-e2e}"
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv"; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
fi
if ! "$venv/bin/python" -c 'import selenium' >/dev/null 2>&1; then
    echo "dashboard-e2e: installing selenium into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check selenium
fi

exec "$venv/bin/python" "$here/dashboard_e2e.py" "$@"
