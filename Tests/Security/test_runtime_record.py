"""Issue #24, finding 5: `--record` wrote secrets world-readable (0644 files holding admin
`Authorization` headers and cookies), fsynced each file on the connection's event loop (a
3,000-frame burst froze every reply for ~10 s), and grew without bound. Now credentials are
redacted, files are 0600 in a 0700 directory, a bounded writer off the event loop does the writing,
and a size cap stops recording with one warning line."""
import json
import stat
import subprocess
import time

import requests
from websockets.sync.client import connect

from stage import RunningStage

ORIGIN = "http://localhost:5173"
SECRETS = {
    "Authorization": "Bearer admin-secret-token-1234567890",
    "Cookie": "session=cookie-secret-abcdef",
    "X-Api-Key": "api-key-secret-zyxwvu",
    "Proxy-Authorization": "Basic proxy-secret-qwerty",
    "X-Amz-Security-Token": "security-token-secret-987",
}


def recorded_text(directory):
    return "\n".join(path.read_text() for path in sorted(directory.iterdir()))


def test_recorded_fixtures_hold_no_credentials_and_only_the_owner_can_read_them(local_runtime, root, tmp_path):
    recorded = tmp_path / "recorded"
    stage = RunningStage(local_runtime, root, tmp_path, "--record", str(recorded))
    try:
        with connect(f"{stage.ws_url}?sessionId=rec-1&widget_id=widget_demo_localhost", origin=ORIGIN,
                     additional_headers=SECRETS) as ws:
            ws.send(json.dumps({"action": "sendMessage", "message": "hello", "conversation_id": "rec-1"}))
            ws.recv(timeout=15)
        requests.get(f"{stage.http_url}/api/admin/widgets", headers=SECRETS, timeout=15)
        requests.post(f"{stage.http_url}/api/chat", headers={**SECRETS, "Origin": ORIGIN}, timeout=15,
                      json={"widget_id": "widget_demo_localhost", "conversation_id": "rec-2", "message": "hi"})
        stage.wait_for_line(r"^disconnect  \$disconnect", timeout=15)
    finally:
        stage.stop()
    text = recorded_text(recorded)
    for secret in ("admin-secret-token", "cookie-secret", "api-key-secret", "proxy-secret", "security-token-secret"):
        assert secret not in text, f"{secret!r} was recorded"
    assert "REDACTED" in text
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o700
    for path in recorded.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path.name} is {oct(path.stat().st_mode)}"
    # Still fixtures that replay as they are.
    replayed = subprocess.run([local_runtime, "replay", str(recorded)], cwd=root, capture_output=True, text=True, timeout=120)
    assert "0 failed" in replayed.stdout, replayed.stdout + replayed.stderr


def test_recording_stops_at_its_size_cap_with_one_warning(local_runtime, root, tmp_path):
    recorded = tmp_path / "recorded"
    stage = RunningStage(local_runtime, root, tmp_path, "--record", str(recorded), "--record-max-bytes", "20000")
    try:
        with connect(f"{stage.ws_url}?sessionId=rec-cap&widget_id=widget_demo_localhost", origin=ORIGIN, max_queue=None) as ws:
            for index in range(200):
                ws.send(json.dumps({"action": "sendMessage", "message": f"message {index}", "conversation_id": "rec-cap"}))
                if index % 8 == 7:
                    time.sleep(0.05)
            time.sleep(2)
        stage.wait_for_line(r"^disconnect  \$disconnect", timeout=30)
        stage.wait_for_line(r"record.*(cap|limit)", timeout=30)
    finally:
        stage.stop()
    total = sum(path.stat().st_size for path in recorded.iterdir())
    assert total <= 20000, f"{total} bytes recorded past a cap of 20000"
    warnings = [line for line in stage.lines if "record" in line and ("cap" in line or "limit" in line)]
    assert len(warnings) == 1, warnings
