#!/usr/bin/env bash
# Installs what building and testing imagedrop needs on a fresh Debian machine of this kind: the C
# libraries' headers (libcurl is not there by default), systemd-analyze for the unit check, nginx and openssl for the TLS-proxy test, redis-server and hiredis for the fleet, and a Python
# venv with the official Cloudflare SDK for the emulator's conformance test. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for package in libcurl4-openssl-dev libsqlite3-dev libssl-dev pkg-config systemd sqlite3 curl nginx-light openssl redis-server libhiredis-dev; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${need[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "${1:-}" = "--with-python" ]; then
    # prometheus-client: its parser reads the daemon's /metrics in the HTTP endpoint test.
    if ! .venv/bin/python -c "import cloudflare, jsonschema, prometheus_client; assert cloudflare.__version__ == '5.9.0'" 2>/dev/null; then
        echo "bootstrap: creating .venv with cloudflare==5.9.0, jsonschema and prometheus-client==0.26.0"
        python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check cloudflare==5.9.0 jsonschema prometheus-client==0.26.0
    fi
fi
