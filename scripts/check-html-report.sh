#!/usr/bin/env bash
# Checks an HTML report in a real browser: loads it in headless Chromium and fails (exit 1)
# on any console error, any request outside the file, or any chart (<svg>) that is not
# visible. Installs Debian's chromium (with the DejaVu and Liberation fonts) when no Chromium
# is found and apt-get can be used as root; when that is impossible it prints "skipped: ..."
# and exits 0.
#
# Usage: scripts/check-html-report.sh REPORT.html [--screenshot PNG] [--chart-shots DIR]
#                                                 [--min-charts N] [--width PX]
# Exit codes: 0 passed (or skipped), 1 the report failed a check, 2 bad usage or the
# browser could not be run.
set -euo pipefail

if [ $# -lt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
fi
report=$1
shift
if [ ! -f "$report" ]; then
    echo "error: no such file: $report" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v python3 > /dev/null; then
    echo "skipped: python3 is not available to drive the browser"
    exit 0
fi

find_browser() {
    local name
    for name in chromium chromium-browser google-chrome-stable google-chrome; do
        if command -v "$name" > /dev/null; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

if ! browser=$(find_browser); then
    if ! command -v apt-get > /dev/null; then
        echo "skipped: no Chromium found and no apt-get to install Debian's chromium"
        exit 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "skipped: no Chromium found and not root, so chromium cannot be installed"
        exit 0
    fi
    echo "installing Debian's chromium (apt-get install chromium)..." >&2
    log=$(mktemp)
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation; } > "$log" 2>&1; then
        echo "skipped: chromium could not be installed (apt-get failed: $(tail -n 1 "$log"))"
        rm -f "$log"
        exit 0
    fi
    rm -f "$log"
    if ! browser=$(find_browser); then
        echo "skipped: chromium was installed but no chromium command was found"
        exit 0
    fi
fi

exec python3 "$here/check_html_report.py" --browser "$browser" "$report" "$@"
