"""The user guide runs as written: every ``sh`` and ``python`` block, in order, from a
work folder whose ``data/`` is the checkout's; the ``text`` block right after a
runnable one lists lines its output must contain (the guide's figures)."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _blocks():
    """``(language, code, expected lines)`` for each runnable block of the guide."""
    found = BLOCK.findall((ROOT / "docs" / "guide.md").read_text(encoding="utf-8"))
    out = []
    for k, (language, code) in enumerate(found):
        if language not in ("sh", "python"):
            continue
        expected = []
        if k + 1 < len(found) and found[k + 1][0] == "text":
            expected = [line.strip() for line in found[k + 1][1].splitlines() if line.strip()]
        out.append((language, code, expected))
    return out


def test_the_guide_has_runnable_blocks_with_figures():
    blocks = _blocks()
    assert len(blocks) >= 12
    assert sum(bool(expected) for _, _, expected in blocks) >= 10


@pytest.mark.skipif(not (Path(sys.executable).parent / "gridkit").exists(), reason="gridkit not installed")
def test_guide_runs_and_reproduces_its_figures(tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg"}
    namespace = {}
    for language, code, expected in _blocks():
        if language == "sh":
            done = subprocess.run(["bash", "-e", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"{code}\n{output[-3000:]}"
        else:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, "guide.md", "exec"), namespace)
            output = buffer.getvalue()
        missing = [line for line in expected if line not in output]
        assert not missing, f"{code}\nexpected, not printed: {missing}\nprinted:\n{output[-3000:]}"
