"""The stage's own CPU per HTTP API request: user + system time of the `serve` process (from
/proc/PID/stat) over a closed loop of CORS preflights to `OPTIONS /api/chat` (the event built and
written, the `chat` function run in-process, its response turned into HTTP), divided by the
requests answered. Preflights are not rate limited, so every run does the same work.

usage: BENCH_BIN=<release bin dir> python3 Benchmarks/stage_http_cpu.py REQUESTS [CONNECTIONS]
"""
import http.client, os, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

requests_total = int(sys.argv[1]); connections = int(sys.argv[2]) if len(sys.argv) > 2 else 8
tick = os.sysconf("SC_CLK_TCK")
HEADERS = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST", "X-Widget-Id": "widget_demo_localhost"}


def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def client(port, count, statuses):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(count):
        connection.request("OPTIONS", "/api/chat", headers=HEADERS)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    connection.close()


def run(port, count):
    statuses = []
    threads = [threading.Thread(target=client, args=(port, count // connections, statuses)) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


with tempfile.TemporaryDirectory() as directory:
    server = bench.stage(bench.seeded_state(directory))
    port = int(server.url.split(":")[2].split("/")[0])
    try:
        run(port, connections * 20)  # warm-up
        c0, t0 = cpu(server.process.pid), time.perf_counter()
        statuses = run(port, requests_total)
        c1, t1 = cpu(server.process.pid), time.perf_counter()
        n = len(statuses)
        assert set(statuses) == {204}, set(statuses)
        print(f"requests {n}  {n / (t1 - t0):.0f} req/s  stage CPU {(c1 - c0) * 1e6 / n:.0f} us/request  load {os.getloadavg()[0]:.1f}")
    finally:
        server.close()
