"""A metering proxy in front of moto's DynamoDB: forwards every call and prices it in the capacity
units DynamoDB on demand would bill, since moto does not report consumed capacity.

Pricing rules (DynamoDB's, as documented for on-demand tables):
- a write costs one write unit per started KB of the larger of the item before and after it, at
  least one, also when its condition fails; in `TransactWriteItems` each item costs twice that;
- a write that changes what an index holds costs the index one write unit per started KB of the
  projected item (two when the item moves between index keys: a delete and a put);
- a read costs one read unit per started 4 KB read (a Query sums the items it returns), at least
  one; half of that when eventually consistent (index queries always are).

To see the item before and after a write, the proxy reads it from moto around the call, outside the
metered traffic; calls are forwarded one at a time, which moto's server does anyway.
"""
import json
import math
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


def value_size(value):
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return 1 + math.ceil(len(inner.lstrip("-").replace(".", "")) / 2)
    if kind == "B":
        return len(inner) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    return 0


def item_size(item):
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size):
    return max(1, math.ceil(size / 1024))


class Meter:
    """Counts and prices the calls forwarded to `upstream`. `mark()` starts a phase; `since(mark)` sums it."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.calls = []
        self.lock = threading.Lock()
        self.indexes = None

    def _post(self, target, body):
        request = urllib.request.Request(self.upstream, data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{target}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=host, Signature=0"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _item(self, table, key):
        status, body = self._post("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        return json.loads(body).get("Item") if status == 200 else None

    def _projections(self, table):
        """{index name: (key attributes, projected attributes or None for ALL)} of `table`."""
        if self.indexes is None:
            _, body = self._post("DescribeTable", {"TableName": table})
            self.indexes = {}
            for index in json.loads(body).get("Table", {}).get("GlobalSecondaryIndexes", []):
                keys = [k["AttributeName"] for k in index["KeySchema"]]
                projection = index["Projection"]
                kind = projection["ProjectionType"]
                attributes = None if kind == "ALL" else set(keys) | {"pk", "sk"} | set(projection.get("NonKeyAttributes", []))
                self.indexes[index["IndexName"]] = (keys, attributes)
        return self.indexes

    def _index_units(self, table, old, new):
        units = 0
        for keys, projected in self._projections(table).values():
            def entry(item):
                if not item or any(k not in item for k in keys):
                    return None
                return item if projected is None else {k: v for k, v in item.items() if k in projected}
            before, after = entry(old), entry(new)
            if before == after:
                continue
            if before is not None and after is not None and all(before[k] == after[k] for k in keys):
                units += write_units(item_size(after))
            else:
                units += (write_units(item_size(before)) if before else 0) + (write_units(item_size(after)) if after else 0)
        return units

    @staticmethod
    def _key(request):
        if "Key" in request:
            return request["Key"]
        item = request.get("Item", {})
        return {"pk": item["pk"], "sk": item["sk"]}

    def forward(self, target, raw):
        request = json.loads(raw or b"{}")
        with self.lock:
            if target in WRITES:
                table, key = request["TableName"], self._key(request)
                old = self._item(table, key)
                status, body = self._post(target, request)
                new = self._item(table, key)
                units = write_units(max(item_size(old), item_size(new)))
                call = {"op": target, "wru": units + self._index_units(table, old, new), "rru": 0, "status": status,
                        "pk": key["pk"]["S"]}
            elif target == "TransactWriteItems":
                befores = []
                for action in request["TransactItems"]:
                    (kind, inner), = action.items()
                    befores.append((inner["TableName"], self._key(inner), self._item(inner["TableName"], self._key(inner))))
                status, body = self._post(target, request)
                wru = 0
                for table, key, old in befores:
                    new = self._item(table, key)
                    wru += 2 * write_units(max(item_size(old), item_size(new))) + self._index_units(table, old, new)
                call = {"op": target, "wru": wru, "rru": 0, "status": status, "pk": befores[0][1]["pk"]["S"] if befores else ""}
            else:
                status, body = self._post(target, request)
                response = json.loads(body) if status == 200 else {}
                rru = 0.0
                pk = ""
                if target == "GetItem":
                    size = item_size(response.get("Item"))
                    rru = max(1, math.ceil(size / 4096)) * (1 if request.get("ConsistentRead") else 0.5)
                    pk = request["Key"]["pk"]["S"]
                elif target == "Query":
                    size = sum(item_size(i) for i in response.get("Items", []))
                    strong = request.get("ConsistentRead") and "IndexName" not in request
                    rru = max(1, math.ceil(size / 4096)) * (1 if strong else 0.5)
                    pk = next((v["S"] for k, v in request.get("ExpressionAttributeValues", {}).items() if k == ":pk"), "")
                elif target == "BatchGetItem":
                    for table, part in response.get("Responses", {}).items():
                        strong = request["RequestItems"][table].get("ConsistentRead")
                        rru += sum(max(1, math.ceil(item_size(i) / 4096)) * (1 if strong else 0.5) for i in part)
                call = {"op": target, "wru": 0, "rru": rru, "status": status, "pk": pk}
            self.calls.append(call)
            return status, body

    def mark(self):
        with self.lock:
            return len(self.calls)

    def since(self, mark):
        """Calls, write units and read units from `mark` on, and the calls by operation."""
        with self.lock:
            calls = self.calls[mark:]
        by_op = {}
        for call in calls:
            by_op[call["op"]] = by_op.get(call["op"], 0) + 1
        return {"calls": len(calls), "wru": sum(c["wru"] for c in calls), "rru": sum(c["rru"] for c in calls), "by_operation": by_op,
                "keys": [f'{c["op"]} {c["pk"]}' for c in calls]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        status, body = self.server.meter.forward(target, raw)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start(upstream):
    """A metering proxy to `upstream` on a free loopback port: returns (its URL, the meter, the server to shut down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.meter = Meter(upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server.meter, server
