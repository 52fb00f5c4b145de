"""A recorded session is a regression suite: `serve --record` writes each response's status (and the
stable part of its body) as the fixture's expectation, and `replay` gives the statuses the session had
live — admin calls included, whose tokens are re-signed with the replay secret instead of recorded."""
import json
import subprocess
import time

import jwt
import requests

from stage import RunningStage

SECRET = "record-replay-admin-secret-0123456789"
ORIGIN = "https://admin.example.com"


def record_admin_session(local_runtime, root, tmp_path):
    recorded = tmp_path / "recorded"
    stage = RunningStage(local_runtime, root, tmp_path, "--record", str(recorded),
                         env={"ADMIN_JWT_SECRET": SECRET, "ADMIN_ORIGIN": ORIGIN})
    now = int(time.time())
    token = jwt.encode({"sub": "pytest", "scope": "admin", "iat": now, "exp": now + 300}, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
    try:
        created = requests.post(f"{stage.http_url}/api/admin/widgets", json={"widget_id": "widget_record_replay_1", "name": "Shop",
                                                                              "allowed_domains": ["shop.example"]},
                                headers=headers, timeout=30)
        listed = requests.get(f"{stage.http_url}/api/admin/widgets", headers=headers, timeout=30)
        stage.wait_for_line(r"^admin  .*  200  ")
    finally:
        stage.stop()
    return recorded, token, created.status_code, listed.status_code


def replay(local_runtime, root, recorded):
    return subprocess.run([local_runtime, "replay", str(recorded)], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin"})


def test_a_recorded_admin_session_replays_with_the_statuses_it_had_live(local_runtime, root, tmp_path):
    recorded, token, created, listed = record_admin_session(local_runtime, root, tmp_path)
    assert (created, listed) == (201, 200)
    expectations = sorted(recorded.glob("*.expected.json"))
    assert [json.loads(path.read_text())["statusCode"] for path in expectations] == [201, 200]
    result = replay(local_runtime, root, recorded)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed" in result.stdout
    assert "-> 201" in result.stdout and "-> 200" in result.stdout


def test_the_live_admin_token_never_reaches_a_fixture(local_runtime, root, tmp_path):
    recorded, token, _, _ = record_admin_session(local_runtime, root, tmp_path)
    signature = token.rsplit(".", 1)[1]
    for path in recorded.iterdir():
        assert signature not in path.read_text()


def test_a_replay_that_drifts_from_the_recorded_status_fails(local_runtime, root, tmp_path):
    recorded, _, _, _ = record_admin_session(local_runtime, root, tmp_path)
    first = sorted(recorded.glob("*.expected.json"))[0]
    first.write_text(json.dumps({**json.loads(first.read_text()), "statusCode": 418}))
    result = replay(local_runtime, root, recorded)
    assert result.returncode == 1 and "statusCode: expected 418, got 201" in result.stdout
