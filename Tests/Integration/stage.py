"""Runs `local-runtime serve` for a test and collects its log lines."""
import os
import queue
import re
import socket
import subprocess
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningStage:
    """A `local-runtime serve` process on a free port, with its stdout lines collected."""

    def __init__(self, binary, root, tmp_path, *args, env=None):
        self.port = free_port()
        self.lines = []
        self._new_lines = queue.Queue()
        command = [binary, "serve", "--port", str(self.port), "--state", str(tmp_path / "state.sqlite"), *args]
        self.process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})}, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for_line(r"ready", timeout=60)

    def _read(self):
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            self._new_lines.put(line)

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/dev"

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_for_line(self, pattern, timeout=10.0, after=0):
        """The first log line at index >= `after` matching `pattern`, waiting for it to appear."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if regex.search(line):
                    return line
            try:
                self._new_lines.get(timeout=0.05)
            except queue.Empty:
                pass
        raise AssertionError(f"no log line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def invocations(self, function):
        return [line for line in self.lines if line.startswith(function + "  ")]

    def last_connection_id(self):
        """The id of the most recent accepted connection, from the `$connect` log line."""
        line = self.wait_for_line(r"^connect  \$connect  \S+  200")
        accepted = [l for l in self.lines if re.match(r"^connect  \$connect  \S+  200", l)]
        return accepted[-1].split("  ")[2]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
