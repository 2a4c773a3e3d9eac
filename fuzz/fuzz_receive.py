"""atheris entry point: coverage-guided fuzzing of both receive paths.

    python fuzz/fuzz_receive.py [libFuzzer options] CORPUS_DIR

Normally run through ``python fuzz/bounded_run.py --seconds N`` (what the
test suite runs), which seeds the corpus, prints the libFuzzer seed and the
command that replays it, and bounds time and memory; start the fuzzer from
that small launcher rather than straight from a big process (see its
docstring: ``-rss_limit_mb`` would count the parent's peak RSS). A crash (any
exception but ``RemoteProtocolError`` out of the core, or a broken invariant)
is saved as ``crash-*`` and reproduced with ``python fuzz/fuzz_receive.py crash-FILE``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["chatproto", "harness"]):
    import harness

    from chatproto._generated_codec import DECODERS

# The generated decoders are compiled with exec, after import instrumentation
# ran: instrument them too, or the fuzzer is blind inside the hottest code.
for _layout, _decode in DECODERS.items():
    DECODERS[_layout] = atheris.instrument_func(_decode)


def main() -> None:
    atheris.Setup(sys.argv, harness.run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
