"""The README's tour, run as written: every fenced block whose info string is `sh tour…` is executed
in order from the checkout's root, and the output it shows is checked. A README edit that breaks a
command, or shows output the command no longer prints, fails here.

How a block reads (README.md, "A five-minute tour"):
- ```` ```sh tour ```` runs with bash (`set -eo pipefail`), to completion, within `BLOCK_TIMEOUT`.
- ```` ```sh tour background ```` starts a long-running command (a server, a listening client) that
  stays up for the rest of the tour, as if in another terminal; it is stopped with SIGINT (Ctrl-C)
  at the end.
- ```` ```sh tour requires=NAME ```` runs only where the program NAME is installed (the AWS CLI is
  not among the test command's dependencies); elsewhere it is reported as skipped, not hidden.
- Lines starting with `# ` show output: each must match a line of the block's output (stdout and
  stderr together), in order, other lines allowed between them. `…` stands for any text within
  a line (a duration, a random token). `# ...` marks where output may continue later: a
  background block's lines before it must appear before the tour goes on, the rest by its end.
- `<connectionId>` stands for the id the stage log shows for the latest accepted connection (the
  `id` column of its `connect  $connect` line), which is what the README tells the reader to copy.

What the test changes, and why: ports 3001 and 3002 become free ports (`--port` is added to the
commands that listen), so that the tour never collides with a stage someone left running; and
`STATE_PATH` points into the test's directory, so that the checkout's `.local-runtime/` state is
left alone. The environment is a fresh machine's: no AWS credentials, region or profile files, no
AI provider key, no admin secret.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from stage import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK_TIMEOUT = 120
# The demo widget's min_message_interval_ms is 2,000: a reader takes longer than that between two
# steps that send a message; the test waits as long.
READER_PAUSE = 2.1
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# Variables a developer's shell may hold that a newcomer's does not.
NOT_ON_A_FRESH_MACHINE = re.compile(r"^(AWS_|AI_API_|ADMIN_JWT_|CONVERSATION_TOKEN_SECRET$|STATE_PATH$|ALLOWED_ORIGINS$)")


class Block:
    """One `sh tour` block: its script, how it runs, and the output lines it shows."""

    def __init__(self, info, body, line_number):
        words = info.split()
        self.line_number = line_number
        self.background = "background" in words
        self.requires = [word.split("=", 1)[1] for word in words if word.startswith("requires=")]
        self.script = body
        self.expected = [line[2:] for line in body.splitlines() if line.startswith("# ")]

    def __repr__(self):
        return f"README.md:{self.line_number}"

    def first_command(self):
        return next(line for line in self.script.splitlines() if line.strip() and not line.startswith("#"))


def tour_blocks(text):
    blocks = []
    for match in FENCE.finditer(text):
        words = match.group("info").split()
        if len(words) >= 2 and words[0] == "sh" and words[1] == "tour":
            blocks.append(Block(match.group("info"), match.group("body"), text.count("\n", 0, match.start()) + 1))
    return blocks


def line_pattern(expected):
    """`…` matches any text; everything else literally."""
    return re.compile(".*?".join(re.escape(part) for part in expected.split("…")))


def unmatched(expected, lines):
    """The expected lines not found, in order, among `lines` (empty when all are)."""
    position = 0
    for index, wanted in enumerate(expected):
        if wanted == "...":
            continue
        pattern = line_pattern(wanted)
        while position < len(lines) and not pattern.fullmatch(lines[position].rstrip()):
            position += 1
        if position == len(lines):
            return [line for line in expected[index:] if line != "..."]
        position += 1
    return []


class Background:
    """A background block's process, with its output lines collected as they come."""

    def __init__(self, block, script, environment):
        self.block = block
        self.lines = []
        self.process = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, expected, timeout):
        deadline = time.monotonic() + timeout
        while unmatched(expected, list(self.lines)):
            if time.monotonic() > deadline or self.process.poll() is not None:
                time.sleep(0.2)
                missing = unmatched(expected, list(self.lines))
                if missing:
                    raise AssertionError(f"{self.block}: {self.block.first_command()!r} did not print {missing[0]!r}; it printed:\n"
                                         + "\n".join(self.lines))
                return
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def built():
    """The tour's commands run scripts/local-runtime, which builds when a source is newer than its
    last build: build now, with time to spare, rather than inside a block's timeout (after
    scripts/test's build this is immediate)."""
    subprocess.run(["scripts/local-runtime", "--help"], cwd=ROOT, check=True, capture_output=True, timeout=1800)


def fresh_environment(tmp_path):
    environment = {name: value for name, value in os.environ.items() if not NOT_ON_A_FRESH_MACHINE.match(name)}
    environment["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
    environment["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    environment["STATE_PATH"] = str(tmp_path / "state" / "state.sqlite")
    return environment


def test_the_readme_tour_runs_as_written(built, tmp_path):
    blocks = tour_blocks(README.read_text())
    assert len(blocks) >= 8, "the README's tour blocks (```sh tour) were not found"
    ports = {"3001": str(free_port()), "3002": str(free_port())}
    environment = fresh_environment(tmp_path)
    backgrounds = []
    skipped = []

    def localized(text):
        for readme_port, port in ports.items():
            text = text.replace(f"127.0.0.1:{readme_port}", f"127.0.0.1:{port}")
        return text

    def connection_id():
        stage = next(b for b in backgrounds if b.block.first_command().startswith("scripts/run"))
        accepted = [line for line in stage.lines if re.match(r"^connect  \$connect  \S+  200  ", line)]
        assert accepted, f"no accepted connection in the stage log:\n" + "\n".join(stage.lines)
        return accepted[-1].split("  ")[2]

    last_block_end = 0.0
    try:
        for block in blocks:
            missing_programs = [name for name in block.requires if shutil.which(name) is None]
            if missing_programs:
                skipped.append(f"{block} (needs {', '.join(missing_programs)})")
                continue
            time.sleep(max(0.0, last_block_end + READER_PAUSE - time.monotonic()))
            script = localized(block.script)
            if "<connectionId>" in script:
                script = script.replace("<connectionId>", connection_id())
            expected = [localized(line) for line in block.expected]
            if block.background:
                command = block.first_command()
                if command.startswith("scripts/run"):
                    script = script.replace(command, f"{command} --port {ports['3001']}", 1)
                elif "start-lambda" in command:
                    script = script.replace(command, f"{command} --port {ports['3002']}", 1)
                background = Background(block, script, environment)
                backgrounds.append(background)
                now = expected[:expected.index("...")] if "..." in expected else expected
                background.wait_for(now, timeout=BLOCK_TIMEOUT)
            else:
                result = subprocess.run(["bash", "-c", "set -eo pipefail\n" + script], cwd=ROOT, env=environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BLOCK_TIMEOUT)
                lines = result.stdout.splitlines()
                assert result.returncode == 0, f"{block} failed (exit {result.returncode}):\n{result.stdout}"
                missing = unmatched(expected, lines)
                assert not missing, f"{block}: the output has no line {missing[0]!r} (in order); it was:\n{result.stdout}"
            last_block_end = time.monotonic()
        for background in backgrounds:
            background.wait_for([localized(line) for line in background.block.expected], timeout=10)
    finally:
        for background in reversed(backgrounds):
            background.stop()
    if skipped:
        print("skipped README blocks:", "; ".join(skipped))


def test_an_output_line_the_command_does_not_print_fails_the_tour():
    """The checker itself: a shown line that is missing, or out of order, is reported."""
    assert unmatched(["a", "c"], ["a", "b", "c"]) == []
    assert unmatched(["c", "a"], ["a", "b", "c"]) == ["a"]
    assert unmatched(['{"token":"…","type":"message"}'], ['{"token":"4f2a","type":"message"}']) == []
    assert unmatched(['{"token":"…","type":"message"}'], ['{"token":"4f2a","type":"delta"}']) != []
    assert unmatched(["x", "...", "y"], ["x", "z", "y"]) == []
