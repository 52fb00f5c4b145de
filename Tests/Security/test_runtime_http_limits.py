"""Issue #24, finding 2: the stage had no header-read or idle timeout, answered neither an 80 KB
header nor a malformed request (error handling was off on the channel), and had no bound on
connections: 1,088 unfinished requests used every descriptor. Now unfinished headers and idle
keep-alive connections are closed, oversized headers get 431, malformed requests 400 and a close,
and connections beyond a cap wait in the listen backlog instead of taking descriptors."""
import socket
import time

import pytest
import requests

from probes import is_closed_by_peer, open_descriptors, raw_request, wait_until
from stage import RunningStage

UNFINISHED = b"GET /_dev/fixtures HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture
def strict_stage(local_runtime, root, tmp_path):
    """A stage with short timeouts and a small connection cap, so that the test need not wait long."""
    running = RunningStage(local_runtime, root, tmp_path, "--header-read-timeout", "1", "--http-idle-timeout", "2",
                           "--max-connections", "40")
    yield running
    running.stop()


def test_an_80_kb_header_gets_431_and_a_close(stage):
    request = b"GET /_dev/fixtures HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (80 * 1024) + b"\r\n\r\n"
    answer = raw_request(stage.port, request, timeout=20)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_a_malformed_request_gets_400_and_a_close(stage):
    answer = raw_request(stage.port, b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", timeout=20)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_a_malformed_tls_handshake_is_closed_without_an_http_answer(stage):
    """The stage's port speaks TLS to a connection that opens with a handshake record: a broken one is
    refused by the TLS layer (an alert at most) and closed, never handed to the HTTP pipeline or left open."""
    with socket.create_connection(("127.0.0.1", stage.port)) as connection:
        connection.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64)
        connection.settimeout(20)
        first = connection.recv(5)
        assert not first.startswith(b"HTTP"), first
        assert first == b"" or first[0] == 0x15 or is_closed_by_peer(connection, timeout=20)


def test_unfinished_headers_are_closed_by_the_default_header_timeout(stage):
    with socket.create_connection(("127.0.0.1", stage.port)) as connection:
        connection.sendall(UNFINISHED)
        assert is_closed_by_peer(connection, timeout=60), "a request whose headers never end stays open"


def test_unfinished_headers_and_idle_keep_alive_connections_are_closed(strict_stage):
    with socket.create_connection(("127.0.0.1", strict_stage.port)) as slow:
        slow.sendall(UNFINISHED)
        assert is_closed_by_peer(slow, timeout=30)
    with socket.create_connection(("127.0.0.1", strict_stage.port)) as kept_alive:
        kept_alive.sendall(f"GET /_dev/fixtures HTTP/1.1\r\nHost: 127.0.0.1:{strict_stage.port}\r\n\r\n".encode())
        kept_alive.settimeout(10)
        assert kept_alive.recv(65536).startswith(b"HTTP/1.1 200")
        assert is_closed_by_peer(kept_alive, timeout=30), "an idle keep-alive connection stays open"


def test_half_open_clients_cannot_take_every_descriptor(strict_stage):
    pid = strict_stage.process.pid
    baseline = open_descriptors(pid)
    half_open = []
    try:
        for _ in range(400):
            connection = socket.socket()
            connection.setblocking(False)
            connection.connect_ex(("127.0.0.1", strict_stage.port))
            half_open.append(connection)
        time.sleep(0.5)
        for connection in half_open:
            try:
                connection.send(UNFINISHED)
            except OSError:
                pass
        peak = 0
        for _ in range(20):
            peak = max(peak, open_descriptors(pid))
            time.sleep(0.05)
        assert peak <= baseline + 40 + 10, f"{peak} descriptors open with a cap of 40 connections (baseline {baseline})"
        strict_stage.wait_for_line(r"connection limit", timeout=30)
        # A real request still gets through once the timeouts have cleared the half-open ones.
        answer = requests.get(f"{strict_stage.http_url}/_dev/fixtures", timeout=120)
        assert answer.status_code == 200
    finally:
        for connection in half_open:
            connection.close()
    assert wait_until(lambda: open_descriptors(pid) <= baseline + 5, timeout=60), "descriptors are not given back"
