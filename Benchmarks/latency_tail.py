"""Where a p99 comes from: the bench's 1,000 msg/s load on a fresh stage, with every slow reply (over
5 ms) grouped into bursts by when it was sent, beside the load generator's own garbage collections
and the stage's slowest invocations (from its log lines, timestamped as they arrive). Bursts at a
steady period that the stage's log also shows slow point at the store (round 7: one per background
checkpoint); a burst with no slow invocation behind it was outside the handlers.

usage: BENCH_BIN=<release bin dir> python3 Benchmarks/latency_tail.py [RUNS]
  COLLECTOR=on   leave CPython's collector running over the window, as rounds 4-6 did
"""
import asyncio, gc, json, os, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

RATE, SECONDS, CONNECTIONS, SLOW_MS = 1000, 5, 500, 5.0
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and info["generation"] == 2 and collections.append(time.perf_counter()))


def measure(state):
    port = bench.free_port()
    process = subprocess.Popen([str(bench.BIN / "local-runtime"), "serve", "--port", str(port), "--state", str(state),
                                "--idle-timeout", "3600"], cwd=bench.ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, **bench.LOAD_ENV})
    log = []
    threading.Thread(target=lambda: [log.append((time.perf_counter(), line.decode(errors="replace"))) for line in process.stdout],
                     daemon=True).start()
    bench.wait_for_port(port)
    time.sleep(0.3)

    async def run():
        connections = await bench.open_connections(f"ws://127.0.0.1:{port}/dev", CONNECTIONS)
        sent = {i: [] for i in range(CONNECTIONS)}
        replies = []

        async def reader(index, connection):
            async for frame in connection:
                if json.loads(frame).get("type") == "message":
                    at = sent[index].pop(0)
                    replies.append((at, time.perf_counter() - at))
        readers = [asyncio.create_task(reader(i, c)) for i, c in enumerate(connections)]
        start = time.perf_counter()
        message = json.dumps({"action": "sendMessage", "message": "How long does shipping take?"})
        for k in range(RATE * SECONDS):
            delay = start + k / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[k % CONNECTIONS].append(time.perf_counter())
            await connections[k % CONNECTIONS].send(message)
        deadline = time.perf_counter() + 30
        while len(replies) < RATE * SECONDS and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        for task in readers:
            task.cancel()
        await bench.close_all(connections)
        return start, replies

    collections.clear()
    if os.environ.get("COLLECTOR") == "on":
        start, replies = asyncio.run(run())
    else:
        with bench.collector_paused():
            start, replies = asyncio.run(run())
    bench.stop(process)
    return start, replies, log


def report(start, replies, log):
    ms = sorted(latency * 1000 for _, latency in replies)
    print(f"p50 {bench.percentile(ms, 50):.2f} ms, p99 {bench.percentile(ms, 99):.2f} ms, max {ms[-1]:.1f} ms, "
          f"{len(ms):,}/{RATE * SECONDS:,} answered")
    bursts = []
    for at, latency in sorted((at - start, latency * 1000) for at, latency in replies if latency * 1000 > SLOW_MS):
        if bursts and at - bursts[-1]["last"] < 0.02:
            bursts[-1].update(last=at, worst=max(bursts[-1]["worst"], latency), count=bursts[-1]["count"] + 1)
        else:
            bursts.append({"first": at, "last": at, "worst": latency, "count": 1})
    if bursts:
        print(f"  {len(bursts)} bursts of slow replies; the {min(12, len(bursts))} largest:")
    for burst in sorted(sorted(bursts, key=lambda b: -b["count"])[:12], key=lambda b: b["first"]):
        window = (start + burst["first"] - 0.05, start + burst["last"] + 0.05)
        slow = [float(line.split()[-2]) for at, line in log
                if window[0] <= at <= window[1] and line.rstrip().endswith(" ms") and float(line.split()[-2]) > SLOW_MS / 2]
        collected = [round((at - start) * 1000) for at in collections if window[0] - 0.05 <= at <= window[1]]
        print(f"  sent {burst['first'] * 1000:6.0f}-{burst['last'] * 1000:6.0f} ms: {burst['count']:3} slow, worst {burst['worst']:5.1f} ms; "
              f"stage invocations over {SLOW_MS / 2:.1f} ms: {len(slow)}{f' (worst {max(slow):.1f} ms)' if slow else ''}"
              f"{f'; full collection at {collected} ms' if collected else ''}")


for run in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    with tempfile.TemporaryDirectory() as directory:
        print(f"run {run + 1}: ", end="")
        report(*measure(bench.seeded_state(directory)))
