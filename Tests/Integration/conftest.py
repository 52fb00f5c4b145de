"""Shared fixtures for the integration tests: the built local-runtime binary and the repo root."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def local_runtime() -> str:
    """Path of the debug local-runtime binary (scripts/test builds it before pytest runs); `LOCAL_RUNTIME`
    overrides it, e.g. with a build in your own scratch path."""
    if os.environ.get("LOCAL_RUNTIME"):
        return os.environ["LOCAL_RUNTIME"]
    path = ROOT / ".build" / "debug" / "local-runtime"
    if not path.exists():
        subprocess.run(["swift", "build", "--product", "local-runtime"], cwd=ROOT, check=True)
    return str(path)


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Every command a test runs keeps its state (and admin secret) in the test's own directory:
    `STATE_PATH` is the default of every `--state`, so `invoke` and the admin commands never share
    rate limits or widgets with another test or with the checkout's `.local-runtime/`."""
    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))


@pytest.fixture
def stage(local_runtime, root, tmp_path):
    """A `local-runtime serve` of this repository's template on a free port, stopped after the test."""
    from stage import RunningStage
    running = RunningStage(local_runtime, root, tmp_path)
    yield running
    running.stop()


@pytest.fixture
def provider():
    """The scripted OpenAI-compatible server of openai_test_server.py, on a free port; it records every request."""
    import openai_test_server
    server = openai_test_server.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def moto(root):
    """moto's DynamoDB on a free loopback port (scripts/moto-dynamodb), for a module; yields its endpoint."""
    process = subprocess.Popen([str(root / "scripts" / "moto-dynamodb")], stdout=subprocess.PIPE, text=True)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
