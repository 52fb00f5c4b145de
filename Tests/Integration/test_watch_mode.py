"""`serve --watch`: an edit to a Python handler is served by the next invocation while a WebSocket
client stays connected, and the stage log shows the reload."""
import shutil

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
