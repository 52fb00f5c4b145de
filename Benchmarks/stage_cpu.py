"""The stage's own CPU per answered sendMessage: user + system time of the `serve` process (from
/proc/PID/stat) over a closed loop, divided by the messages answered. Steadier than msg/s on a
shared machine, because the load generator's share of the cores does not enter it.

usage: BENCH_BIN=<release bin dir> python3 Benchmarks/stage_cpu.py SECONDS [CONNECTIONS] [PERF_OUT]
  COUNT=n         each connection sends exactly n messages instead of looping for SECONDS (the same
                  conversation lengths in every run: the store's cost grows with the history)
  PERF_OUT=file   also `perf record -e cpu-clock` the stage over the measured window
                  (CG=fp|dwarf,32768 call graphs, FREQ=999 Hz)
  STAGE_OPTS      extra `serve` options, e.g. "--reply-path http"
"""
import asyncio, json, os, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

seconds = float(sys.argv[1]); conns = int(sys.argv[2]) if len(sys.argv) > 2 else 64
perf_out = sys.argv[3] if len(sys.argv) > 3 else None
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

with tempfile.TemporaryDirectory() as d:
    state = bench.seeded_state(d)
    server = bench.stage(state, *os.environ.get("STAGE_OPTS", "").split())
    pid = server.process.pid
    message = json.dumps({"action": "sendMessage", "message": "How long does shipping take?"})
    try:
        async def run():
            cs = await bench.open_connections(server.url, conns)
            counts = {"done": 0}
            async def loop(c, stop_at, count=None):
                while (count is None and time.perf_counter() < stop_at) or (count is not None and counts.setdefault(id(c), 0) < count):
                    if count is not None: counts[id(c)] += 1
                    await c.send(message)
                    while json.loads(await c.recv()).get("type") != "message":
                        pass
                    counts["done"] += 1
            # warm-up
            fixed = int(os.environ.get("COUNT", "0")) or None
            await asyncio.gather(*(loop(c, time.perf_counter() + 1, 5 if fixed else None) for c in cs))
            counts.clear(); counts["done"] = 0
            perf = None
            if perf_out:
                perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "--call-graph", os.environ.get("CG", "fp"), "-F", os.environ.get("FREQ", "999"), "-o", perf_out, "-p", str(pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                await asyncio.sleep(0.5)
            c0, t0 = cpu(pid), time.perf_counter()
            await asyncio.gather(*(loop(c, t0 + seconds, fixed) for c in cs))
            c1, t1 = cpu(pid), time.perf_counter()
            if perf:
                perf.send_signal(2); perf.wait()
            await bench.close_all(cs)
            n = counts["done"]
            print(f"msgs {n}  {n/(t1-t0):.0f} msg/s  stage CPU {(c1-c0)*1e6/n:.0f} us/msg  ({c1-c0:.2f} s CPU in {t1-t0:.1f} s)  load {os.getloadavg()[0]:.1f}")
        with bench.collector_paused():
            asyncio.run(run())
    finally:
        server.close()
