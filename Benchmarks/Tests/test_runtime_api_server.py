"""The Runtime API server that bench.py measures runtimes with (Benchmarks/RuntimeAPIServer), run
against its own null runtime: what it serves, what it reports, where it runs what it starts.
Run with `python3 -m pytest -q Benchmarks/Tests` (needs `cc`; loopback only, a few hundred requests)."""
import os
import pathlib
import subprocess

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "RuntimeAPIServer/runtime_api_server.c"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = tmp_path_factory.mktemp("runtime-api") / "runtime_api_server"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(binary), str(SOURCE)], check=True)
    return binary


def serve(server, tmp_path, payloads, *options):
    """Runs the null runtime against `payloads`; returns the report's lines (bodies apart) and the
    runtime's CPU list (from /proc while it still runs)."""
    path = tmp_path / "payloads"
    path.write_bytes(b"".join(b"%d\n" % len(payload) + payload for payload in payloads))
    process = subprocess.Popen([str(server), "serve", *options, str(path), str(server), "null-runtime"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    report, bodies, pid = {}, [], None
    while line := process.stdout.readline():
        words = line.split()
        report.setdefault(words[0].decode(), []).append(words[1:])
        if words[0] == b"spawn":
            pid = int(words[2])
        elif words[0] == b"resp":
            bodies.append(process.stdout.read(int(words[3]) + 1)[:-1])
        elif words[0] == b"done":
            break
    allowed = pathlib.Path(f"/proc/{pid}/status").read_text().split("Cpus_allowed_list:")[1].split()[0]
    process.stdin.close()
    assert process.wait(10) == 0
    return report, bodies, allowed


def test_every_payload_is_answered_once_in_order(server, tmp_path):
    report, bodies, _ = serve(server, tmp_path, [b'{"n":%d}' % i for i in range(200)])
    assert len(report["resp"]) == 200
    assert {words[1] for words in report["resp"]} == {b"response"}
    assert bodies == [b"{}"] * 200
    times = [float(words[0]) for words in report["resp"]]
    assert times == sorted(times)


def test_cpu_line_reports_the_runtimes_and_its_own_cpu_between_first_and_last_response(server, tmp_path):
    report, _, _ = serve(server, tmp_path, [b"{}"] * 300)
    runtime, user, system, harness = (float(word) for word in report["cpu"][0])
    assert 0 < runtime < 5          # 299 null invocations: some CPU, far less than seconds
    assert 0 <= user and 0 <= system
    assert 0 < harness < 5


def test_runtime_cpu_pins_the_runtime_it_starts(server, tmp_path):
    cpu = str(max(os.sched_getaffinity(0)))
    _, _, allowed = serve(server, tmp_path, [b"{}"] * 10, "--runtime-cpu", cpu)
    assert allowed == cpu


def test_pinning_the_server_alone_leaves_the_runtime_on_the_cpus_it_started_with(server, tmp_path):
    _, _, allowed = serve(server, tmp_path, [b"{}"] * 10, "--cpu", str(min(os.sched_getaffinity(0))))
    assert set(expand(allowed)) == os.sched_getaffinity(0)


def expand(cpu_list):
    for part in cpu_list.split(","):
        first, _, last = part.partition("-")
        yield from range(int(first), int(last or first) + 1)
