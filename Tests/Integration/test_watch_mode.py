"""`serve --watch`: an edit to a Python handler is served by the next invocation while a WebSocket
client stays connected, and the stage log shows the reload."""
import re
import shutil
import time

import pytest
from websockets.sync.client import connect

from stage import RunningStage


@pytest.fixture
def app(local_runtime, root, tmp_path):
    folder = tmp_path / "python-echo"
    shutil.copytree(root / "Tests/Integration/apps/python-echo", folder)
    running = RunningStage(local_runtime, root, tmp_path, "-t", str(folder / "template.yaml"), "--watch")
    running.folder = folder
    yield running
    running.stop()


def test_an_edited_python_handler_answers_the_next_message_on_the_same_connection(app):
    with connect(f"ws://127.0.0.1:{app.port}/dev", open_timeout=30) as ws:
        ws.send("one")
        assert ws.recv(timeout=30) == "v1: one"
        handler = app.folder / "src" / "echo.py"
        handler.write_text(handler.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
        app.wait_for_line(r"^reload  EchoFunction  echo\.py changed", timeout=30)
        ws.send("two")
        assert ws.recv(timeout=30) == "v2: two"


def test_saves_within_one_second_of_the_same_size_are_each_served(app):
    """Python checks cached bytecode by whole-second mtime and size; a reload must not load the old code."""
    with connect(f"ws://127.0.0.1:{app.port}/dev", open_timeout=30) as ws:
        handler = app.folder / "src" / "echo.py"
        for version in ["v2", "v3", "v4"]:
            handler.write_text(re.sub(r'VERSION = "v\d"', f'VERSION = "{version}"', handler.read_text()))
            for _ in range(1500):
                ws.send("x")
                if ws.recv(timeout=30).startswith(f"{version}:"):
                    break
                time.sleep(0.02)
            else:
                raise AssertionError(f"{version} was never served")
    assert not (app.folder / "src" / "__pycache__").exists()
