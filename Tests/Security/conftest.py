"""Attack tests: each reproduces a hostile client's probe against a real stage with real clients and
shows it refused. They share the integration tests' fixtures (the built binary, a running stage)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Integration"))

from conftest import local_runtime, root, stage  # noqa: E402,F401  (pytest fixtures, re-exported)
