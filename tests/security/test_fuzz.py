"""The fuzz harness of fuzz/, run briefly: atheris for real, hypothesis as a second driver.

The atheris run is coverage guided and finds the deep cases; the hypothesis run
drives the same target from valid seed frames spliced with random bytes, so the
harness itself is exercised on every test run in well under a second.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))

import harness  # noqa: E402
import seeds  # noqa: E402

SEEDS = seeds.seeds()


def test_every_seed_runs_clean() -> None:
    for seed in SEEDS:
        harness.run_one(seed)


def test_seeds_cover_both_roles_every_scenario_and_every_type() -> None:
    modes = {seed[0] for seed in SEEDS}
    assert modes >= set(range(harness.CODEC_MODE + 1))
    codec_types = {seed[1] for seed in SEEDS if seed[0] == harness.CODEC_MODE}
    assert len(codec_types) == len(harness.LAYOUTS)


def test_a_broken_invariant_is_reported_not_swallowed() -> None:
    # The harness must not mask bugs: a decoder that accepts garbage is caught.
    layout = harness.LAYOUTS[0]
    original = layout.fast_decode
    layout.fast_decode = lambda payload, max_text: original(
        b"\x00\x01\x00\x10\x00\x00\x00", max_text
    )
    try:
        try:
            harness.check_codec(0, b"garbage")
        except harness.HarnessBug:
            pass
        else:
            raise AssertionError("a fast/reference disagreement went unnoticed")
    finally:
        layout.fast_decode = original


def _mutated(data: st.DataObject) -> bytes:
    seed = data.draw(st.sampled_from(SEEDS))
    body = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["flip", "insert", "cut", "splice"]))
        pos = data.draw(st.integers(2, max(2, len(body))))
        if action == "flip" and pos < len(body):
            body[pos] = data.draw(st.integers(0, 255))
        elif action == "insert":
            body[pos:pos] = data.draw(st.binary(max_size=16))
        elif action == "cut":
            del body[pos : pos + data.draw(st.integers(1, 32))]
        else:
            body[pos:pos] = data.draw(st.sampled_from(SEEDS))[2:]
    body[1] = data.draw(st.integers(0, 255))
    return bytes(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_drives_the_harness_from_mutated_seeds(data: st.DataObject) -> None:
    harness.run_one(_mutated(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_hypothesis_drives_the_harness_with_raw_bytes(raw: bytes) -> None:
    harness.run_one(raw)


def test_atheris_short_bounded_run(tmp_path: Path) -> None:
    """About 20 s of coverage-guided fuzzing, seeded, memory bounded."""
    if importlib.util.find_spec("atheris") is None:
        raise AssertionError("atheris is missing: pip install -e '.[fuzz]' (or the test extra)")
    corpus = tmp_path / "corpus"
    seeds.write_corpus(corpus)
    result = subprocess.run(
        [
            sys.executable,
            str(FUZZ_DIR / "fuzz_receive.py"),
            "-max_total_time=20",
            "-rss_limit_mb=1024",
            "-malloc_limit_mb=256",
            "-timeout=10",
            "-max_len=8192",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name != "corpus")
    assert result.returncode == 0 and not crashes, (
        f"atheris found {crashes}:\n{result.stderr[-3000:]}"
    )
    assert "Done" in result.stderr
