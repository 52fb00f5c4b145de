"""Server-side limits are exact under concurrency, through the real stage: 1,000 parallel chat POSTs
against a widget limit of L admit exactly L."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import requests

from stage import RunningStage

LIMIT = 37
WIDGET = {
    "widget_id": "widget_concurrency_test",
    "name": "Concurrency test",
    "allowed_domains": ["localhost"],
    "limits": {"max_messages_per_minute": LIMIT, "max_messages_per_hour": 10000, "max_messages_per_day": 10000,
               "min_message_interval_ms": 0},
}


def test_a_thousand_parallel_requests_admit_exactly_the_limit(local_runtime, root, tmp_path):
    widget_file = tmp_path / "widget.json"
    widget_file.write_text(json.dumps(WIDGET))
    subprocess.run([local_runtime, "widgets", "add", "--json", str(widget_file), "--state", str(tmp_path / "state.sqlite")],
                   cwd=root, check=True, capture_output=True)
    stage = RunningStage(local_runtime, root, tmp_path, env={"IP_RATE_LIMIT_PER_MINUTE": "100000"})
    try:
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64))

        def post(index):
            body = {"widget_id": WIDGET["widget_id"], "conversation_id": f"c-{index}", "message": "What are your opening hours?"}
            response = session.post(f"{stage.http_url}/api/chat", json=body, headers={"Origin": "http://localhost:5173"}, timeout=60)
            return response.status_code, response.json().get("error")

        with ThreadPoolExecutor(max_workers=64) as pool:
            results = list(pool.map(post, range(1000)))
    finally:
        stage.stop()
    statuses = [status for status, _ in results]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 1000 - LIMIT
    assert {error for status, error in results if status == 429} <= {"rate_limit_exceeded", "temporarily_blocked"}
