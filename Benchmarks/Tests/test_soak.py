"""The soak harness (Benchmarks/soak.py) runs and reports: a 20-second smoke against the debug
build, asserting nothing about the numbers — bench.py's `soak` section is where they are read."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Benchmarks"))

import soak  # noqa: E402


def test_a_short_soak_runs_and_reports():
    binary = os.environ.get("LOCAL_RUNTIME", str(ROOT / ".build" / "debug" / "local-runtime"))
    lines = []
    summary = soak.soak(binary, seconds=20, connections=40, rate=20, sample_every=4, report_line=lines.append)
    assert summary["stage_alive"]
    assert summary["samples"] >= 3 and summary["sent"] > 0
    for key in ("rss_mb_max", "fds_max", "idle", "after_clients_left", "replies"):
        assert key in summary
    assert lines[0].startswith("soak:") and lines[-1].startswith("soak done:")
