"""chatproto.js against the Python library, under Node's own test runner.

The corpus (``corpus.py``) is generated here, deterministically, into a temporary file;
``node --test tests/web/js/`` replays it (the path is in ``CHATPROTO_CORPUS``). Node is a
requirement of the suite, not an option: without it the test fails and says so
(``scripts/test.sh`` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from web.corpus import ROOT, write_corpus
from web.corpus_states import invalid_vectors
from web.corpus_text import render_js_tables, tables_in_file

NODE_TESTS = ROOT / "tests" / "web" / "js"
OLDEST_NODE = 20


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: the tests of src/frontends/web/chatproto.js run under "
            f"Node.js {OLDEST_NODE} or later (scripts/test.sh installs it; on Debian: "
            "apt-get install nodejs)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    found = re.match(r"v(\d+)\.", version.stdout)
    assert found and int(found.group(1)) >= OLDEST_NODE, f"Node {version.stdout.strip()} is too old"
    return node


def test_node_replays_the_python_corpus(tmp_path: Path) -> None:
    node = _node()
    corpus = tmp_path / "corpus.json"
    write_corpus(corpus)
    env = {**os.environ, "CHATPROTO_CORPUS": str(corpus)}
    assert list(NODE_TESTS.glob("*.test.mjs")), "no Node tests found"
    result = subprocess.run(
        [node, "--test", "tests/web/js/"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test failed:\n{output}"
    summary = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", output, re.M))
    assert summary.get("fail") == "0" and int(summary.get("pass", 0)) >= 25, output


def test_the_embedded_unicode_tables_are_chatprotos() -> None:
    assert tables_in_file() == render_js_tables(), (
        "the Unicode tables in src/frontends/web/chatproto.js are stale: "
        "python tests/web/corpus.py --tables"
    )


def test_a_mirrored_server_vector_fails_at_its_last_frame_with_its_code() -> None:
    """The premise of replaying server vectors on a client: whatever a server refuses, the
    client refuses to send (or cannot decode), with the same code."""
    mirrored = [v for v in invalid_vectors() if v["receiver"] == "server"]
    assert len(mirrored) > 40
    for vector in mirrored:
        outcome = vector["mirror"]
        assert (outcome["frame"], outcome["code"]) == (len(vector["frames"]) - 1, vector["code"]), (
            vector["number"], vector["fault"], outcome)
