"""The awslambdaric baseline for scripts/bench: a Python `chat` handler doing the same kind of work as
the Swift one for the two benchmark events — a CORS preflight answered from the event alone, and a
chat POST that looks the widget up in SQLite, counts the message against a limit, picks the best
matching knowledge entry by word overlap, and stores both turns."""
import json
import os
import re
import sqlite3
import time

WORDS = re.compile(r"[a-z0-9]+")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Authorization"}

# Opened once at init, as the Swift bootstrap opens its store before the first /next.
_db = sqlite3.connect(os.environ["STATE_PATH"], isolation_level=None)
# As the Swift SQLiteStore opens it (WAL is a property of the file, synchronous of the connection):
# without this every autocommit here would fsync the WAL, which the Swift side never does.
_db.execute("PRAGMA journal_mode=WAL")
_db.execute("PRAGMA synchronous=NORMAL")
_db.execute("CREATE TABLE IF NOT EXISTS bench_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL)")
_db.execute("CREATE TABLE IF NOT EXISTS bench_messages (conversation_id TEXT, role TEXT, content TEXT, created_at REAL)")


def chat(event, context):
    method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method == "OPTIONS":
        return {"statusCode": 204, "headers": CORS}
    body = json.loads(event.get("body") or "{}")
    row = _db.execute("SELECT json FROM widgets WHERE widget_id = ?", (body["widget_id"],)).fetchone()
    if row is None:
        return {"statusCode": 404, "headers": CORS, "body": json.dumps({"error": "Widget not found"})}
    widget = json.loads(row[0])
    ip = event["requestContext"]["http"]["sourceIp"]
    key = f"count:{body['widget_id']}:{ip}:{int(time.time()) // 60}"
    _db.execute("INSERT INTO bench_counters VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET count = count + 1", (key,))
    question = set(WORDS.findall(body["message"].lower()))
    knowledge = widget["settings"]["knowledge"]
    best = max(knowledge, key=lambda entry: len(question & set(WORDS.findall(entry["question"].lower()))))
    now = time.time()
    _db.executemany("INSERT INTO bench_messages VALUES (?, ?, ?, ?)",
                    [(body["conversation_id"], "user", body["message"], now),
                     (body["conversation_id"], "assistant", best["answer"], now)])
    return {"statusCode": 200, "headers": {**CORS, "Content-Type": "application/json"},
            "body": json.dumps({"success": True, "response": best["answer"], "conversation_id": body["conversation_id"]})}
