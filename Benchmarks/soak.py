#!/usr/bin/env python3
"""A bounded soak of `local-runtime serve`: many WebSocket connections sending messages at a steady
rate for a fixed time, while the stage's resident memory and open descriptors are sampled from
/proc. What it shows is the trend — does memory or the descriptor count creep up under steady load,
and do descriptors come back once the clients leave — not throughput.

    Benchmarks/soak.py --binary .build/release/local-runtime --seconds 600 --connections 500 --rate 200

Loopback only; everything it starts is stopped at the end. Prints one line per sample and a
summary; `--json FILE` also writes the summary as JSON. bench.py's `soak` section runs it.
"""
import argparse
import asyncio
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
ORIGIN = "http://localhost:5173"
WIDGET_ID = "widget_soak_steady_load"
# Only the rate limits are lifted: every message still runs the whole policy path.
WIDGET = {"widget_id": WIDGET_ID, "name": "Soak", "allowed_domains": ["localhost", "127.0.0.1"],
          "limits": {"max_messages_per_minute": 10**9, "max_messages_per_hour": 10**9, "max_messages_per_day": 10**9,
                     "min_message_interval_ms": 0}}


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stage(binary, directory):
    state = pathlib.Path(directory) / "state.sqlite"
    widget = pathlib.Path(directory) / "widget.json"
    widget.write_text(json.dumps(WIDGET))
    subprocess.run([binary, "widgets", "add", "--json", str(widget), "--state", str(state)], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--state", str(state), "--idle-timeout", "3600"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "IP_RATE_LIMIT_PER_MINUTE": str(10**9)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the stage exited with {process.returncode}")
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the stage did not start listening within 60 s")


async def run_load(port, seconds, connections, rate, sample_every, pid, report_line):
    from websockets.asyncio.client import connect
    counts = {"sent": 0, "replies": 0, "errors": 0, "refusals": 0}
    samples = []
    stop = asyncio.Event()
    interval = connections / rate  # each connection's period, so that together they send `rate` a second

    async def client(index):
        try:
            ws = await connect(f"ws://127.0.0.1:{port}/dev?sessionId=soak-{index}&widget_id={WIDGET_ID}", origin=ORIGIN,
                               open_timeout=60, ping_interval=None, max_queue=None, compression=None)
        except Exception:
            counts["errors"] += 1
            return

        async def reader():
            try:
                async for frame in ws:
                    kind = json.loads(frame).get("type") if frame.startswith("{") else None
                    if kind in ("message", "done"):
                        counts["replies"] += 1
                    elif kind == "error" or "Too Many Requests" in frame:
                        counts["refusals"] += 1
            except Exception:
                pass

        reading = asyncio.create_task(reader())
        # Spread the connections' sends evenly over one period.
        await asyncio.sleep(interval * index / connections)
        turn = 0
        try:
            while not stop.is_set():
                await ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?",
                                          "conversation_id": f"soak-{index}-{turn // 50}"}))
                counts["sent"] += 1
                turn += 1
                try:
                    await asyncio.wait_for(stop.wait(), timeout=interval)
                except asyncio.TimeoutError:
                    pass
        except Exception:
            counts["errors"] += 1
        finally:
            await ws.close()
            reading.cancel()

    async def sampler():
        started = time.monotonic()
        while not stop.is_set():
            sample = {"t": round(time.monotonic() - started, 1), "rss_mb": round(rss_mb(pid), 1), "fds": descriptors(pid),
                      **counts}
            samples.append(sample)
            report_line(f"  t={sample['t']:>6.1f}s  RSS {sample['rss_mb']:7.1f} MB  fds {sample['fds']:5d}  "
                        f"sent {sample['sent']:8d}  replies {sample['replies']:8d}  refusals {sample['refusals']:6d}  "
                        f"errors {sample['errors']}")
            try:
                await asyncio.wait_for(stop.wait(), timeout=sample_every)
            except asyncio.TimeoutError:
                pass

    async def timer():
        await asyncio.sleep(seconds)
        stop.set()

    await asyncio.gather(timer(), sampler(), *(client(i) for i in range(connections)))
    return counts, samples


def soak(binary, seconds=600, connections=200, rate=100, sample_every=10, report_line=print):
    """Runs the soak; returns the summary (a dict)."""
    with tempfile.TemporaryDirectory() as directory:
        process, port = start_stage(binary, directory)
        try:
            time.sleep(0.5)
            idle = {"rss_mb": round(rss_mb(process.pid), 1), "fds": descriptors(process.pid)}
            report_line(f"soak: {connections} connections, {rate} messages/s, {seconds} s (idle: RSS {idle['rss_mb']} MB, "
                        f"{idle['fds']} fds)")
            counts, samples = asyncio.run(run_load(port, seconds, connections, rate, sample_every, process.pid, report_line))
            # The clients are gone: descriptors should come back to idle.
            deadline = time.monotonic() + 30
            while descriptors(process.pid) > idle["fds"] + 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            after = {"rss_mb": round(rss_mb(process.pid), 1), "fds": descriptors(process.pid)}
            alive = process.poll() is None
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    loaded = samples[len(samples) // 2:] or samples
    summary = {
        "seconds": seconds, "connections": connections, "rate": rate, **counts, "idle": idle, "after_clients_left": after,
        "rss_mb_max": max((s["rss_mb"] for s in samples), default=idle["rss_mb"]),
        "fds_max": max((s["fds"] for s in samples), default=idle["fds"]),
        # Memory in the second half of the run against its start: steady load should hold it flat.
        "rss_mb_second_half": [loaded[0]["rss_mb"], loaded[-1]["rss_mb"]] if loaded else [],
        "samples": len(samples), "stage_alive": alive,
    }
    report_line(f"soak done: sent {counts['sent']:,}, replies {counts['replies']:,}, refusals {counts['refusals']:,}, "
                f"errors {counts['errors']}; RSS idle {idle['rss_mb']} MB, max {summary['rss_mb_max']} MB, "
                f"second half {summary['rss_mb_second_half']}, after {after['rss_mb']} MB; fds idle {idle['fds']}, "
                f"max {summary['fds_max']}, after {after['fds']}")
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "local-runtime"))
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100, help="messages per second, all connections together")
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--json", help="also write the summary here")
    arguments = parser.parse_args()
    summary = soak(arguments.binary, arguments.seconds, arguments.connections, arguments.rate, arguments.sample_every)
    if arguments.json:
        pathlib.Path(arguments.json).write_text(json.dumps(summary, indent=2))
    sys.exit(0 if summary["stage_alive"] else 1)


if __name__ == "__main__":
    main()
