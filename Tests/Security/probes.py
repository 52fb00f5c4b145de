"""What the attack tests measure of a running stage process, from /proc, and how they wait for it."""
import os
import socket
import time


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB (VmRSS in /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def open_descriptors(pid: int) -> int:
    """How many file descriptors `pid` has open (entries of /proc/PID/fd)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(condition, timeout: float, interval: float = 0.1):
    """Polls `condition` until it returns something truthy or `timeout` seconds pass; returns its
    last value. The timeout only detects a hang: tests never assert how fast something happened."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = condition()
    return value


def raw_request(port: int, data: bytes, timeout: float = 15.0, host: str = "127.0.0.1") -> bytes:
    """Sends `data` on a fresh TCP connection and reads until the server closes it or `timeout`
    passes; returns what came back (b"" when nothing did)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def is_closed_by_peer(connection: socket.socket, timeout: float) -> bool:
    """Whether the server closes `connection` (EOF or reset) within `timeout` seconds."""
    connection.settimeout(timeout)
    try:
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
