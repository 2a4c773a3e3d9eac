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
# The launcher seeds the corpus, prints the seed and the command to replay the
# run, and bounds time and memory (fuzz/bounded_run.py says why it is needed).
exec "$PYTHON" fuzz/bounded_run.py --seconds "$seconds" --out build/fuzz
