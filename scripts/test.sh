#!/usr/bin/env bash
# Install everything the test suite needs, then run it: lint, types, tests.
# Used as is by CI (.ci/run) and by developers.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v Xvfb >/dev/null 2>&1 || need_apt+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need_apt+=(xdotool)
# The web client's tests: Debian's Chromium driven by Playwright (its own
# browser download cannot be had here), and Node for chatproto.js's tests.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL and Redis for the cluster tests (started, or installed, when
# they are not up; exports CHAT_TEST_PG and CHAT_TEST_REDIS).
source scripts/services.sh

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy --strict src
.venv/bin/python -m pytest "$@"
