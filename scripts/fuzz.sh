#!/usr/bin/env bash
# Fuzz chatproto's receive paths with atheris for a bounded time.
#   scripts/fuzz.sh [SECONDS]        (default 60)
# Needs atheris: pip install -e '.[fuzz]'. The corpus grows in build/fuzz/corpus
# (kept between runs); crashes land in build/fuzz/ as crash-*; the exit status
# is non-zero when one was found.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
out=build/fuzz
mkdir -p "$out/corpus"
"$PYTHON" fuzz/seeds.py "$out/corpus"
exec "$PYTHON" fuzz/fuzz_receive.py \
    -max_total_time="$seconds" \
    -rss_limit_mb=1024 \
    -malloc_limit_mb=256 \
    -timeout=10 \
    -max_len=8192 \
    -print_final_stats=1 \
    -artifact_prefix="$out/" \
    "$out/corpus"
