"""docs/capacity.md is what scripts/capacity-model writes from the committed counts (docs/capacity-counts.json)."""
import subprocess
import sys


def test_the_capacity_model_is_up_to_date_with_its_script_and_counts(root):
    result = subprocess.run([sys.executable, str(root / "scripts" / "capacity-model"), "--check"], cwd=root, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr + "\nrun scripts/capacity-model --render (or without --render to measure again)"


def test_the_committed_counts_meet_the_targets(root):
    import json
    counts = json.loads((root / "docs" / "capacity-counts.json").read_text())
    assert counts["admitted"]["posts"] <= 12
    assert counts["admitted"]["wru"] <= 6
