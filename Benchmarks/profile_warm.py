#!/usr/bin/env python3
"""Profiles the bootstrap's warm Runtime API loop as bench.py runs it (same state, events, harness):
attaches `perf record` (or `strace -c`) to the bootstrap for SECONDS while it serves COUNT events.

    BENCH_BIN=<dir with release bootstrap and local-runtime> \\
        python3 Benchmarks/profile_warm.py chat|trivial COUNT SECONDS OUTPUT [perf|strace]

PERF_OPTS (default "--call-graph dwarf,32768": the system libsqlite3 has no frame pointers, so
frame-pointer stacks stop there) is passed to perf record. Read the result with
`perf report -i OUTPUT --children --sort sym | swift-demangle --simplified`.
"""
import os
import subprocess
import sys
import tempfile
import time

import bench


def main():
    kind, count, seconds, output = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    tool = sys.argv[5] if len(sys.argv) > 5 else "perf"
    with tempfile.TemporaryDirectory() as directory:
        state = bench.seeded_state(directory)
        payloads = ([bench.chat_event(f"profile-{i}") for i in range(count)] if kind == "chat"
                    else [bench.trivial_event()] * count)
        api = bench.run_runtime("bootstrap", "chat", payloads, state)
        try:
            time.sleep(1)           # past start-up and the first invocations
            if tool == "strace":
                subprocess.run(["timeout", "-s", "INT", seconds, "strace", "-c", "-f", "-o", output, "-p", str(api.pid)])
            else:
                subprocess.run(["perf", "record", "-F", "2000", *os.environ.get("PERF_OPTS", "--call-graph dwarf,32768").split(),
                                "-o", output, "-p", str(api.pid), "--", "sleep", seconds], check=True)
            if not api.done.wait(300):
                raise RuntimeError(f"only {len(api.responses)} of {count} answered")
        finally:
            api.close()
    print(f"{count} answered; runtime CPU {api.cpu['runtime'] * 1e6 / (count - 1):,.1f} µs per invocation")


if __name__ == "__main__":
    main()
