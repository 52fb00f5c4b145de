"""The envelope decoders and the JSON reader under libFuzzer (scripts/fuzz, Fuzz/EnvelopeFuzzer:
AddressSanitizer plus the reader-agrees-with-the-tree and round-trip properties), and the JSON
parser checked against Python's `json` on a corpus: the recorded events and deterministic
mutations of them (truncations, byte flips, insertions)."""
import json
import math
import pathlib
import random
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fuzz_binaries(tmp_path_factory):
    """scripts/fuzz --build-only, in its own directory; returns that directory."""
    directory = tmp_path_factory.mktemp("fuzz")
    subprocess.run([str(ROOT / "scripts" / "fuzz"), "--build-only"], cwd=ROOT, check=True, timeout=900,
                   env={**__import__("os").environ, "FUZZ_DIR": str(directory)}, capture_output=True)
    return directory


def test_a_short_fuzzing_run_finds_nothing(fuzz_binaries):
    result = subprocess.run([str(ROOT / "scripts" / "fuzz"), "20000", "-seed=1"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env={**__import__("os").environ, "FUZZ_DIR": str(fuzz_binaries)})
    assert result.returncode == 0, result.stderr[-8000:]
    assert "Done 20000 runs" in result.stderr, result.stderr[-3000:]


def corpus(seed=24):
    """The events and, for each, mutations a hostile or broken client might send."""
    rng = random.Random(seed)
    inputs = []
    for path in sorted((ROOT / "events").rglob("*.json")):
        data = path.read_bytes()
        inputs.append(data)
        for _ in range(6):
            cut = rng.randrange(len(data) + 1)
            inputs.append(data[:cut])
            flipped = bytearray(data)
            flipped[rng.randrange(len(data))] = rng.randrange(256)
            inputs.append(bytes(flipped))
            at = rng.randrange(len(data) + 1)
            inputs.append(data[:at] + rng.choice([b",", b"]", b"}", b'"', b"\\", b"\x00", b"\xff", b"1e999", b"-", b" ", b"\\u0000",
                                                  b"\\ud800", b"tru", b"null", b"[" * 3, b"\t"]) + data[at:])
    inputs += [b"", b" ", b"[]", b"{}", b"[1,]", b'{"a":1,}', b"01", b"1.", b".5", b"-0", b"1e5", b"1E+2", b'"\\u00e9"',
               b'"\xc3\xa9"', b'"\xc3"', b"[" * 600 + b"]" * 600, b"NaN", b"Infinity", b'{"a":1,"a":2}', b"\xef\xbb\xbf{}",
               b'"a\tb"', b"123456789012345678901234567890", b"1e400", b"[1 2]", b"true false"]
    return inputs


def has_lone_surrogate(value):
    if isinstance(value, str):
        return any(0xD800 <= ord(character) <= 0xDFFF for character in value)
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(key) or has_lone_surrogate(item) for key, item in value.items())
    return False


def python_value(data):
    """What Python's json reads, with JSON's own rules where Python is lenient: no NaN/Infinity,
    the first of duplicate keys (as JSONValue keeps), text as UTF-8 (a byte-order mark allowed), and
    no unpaired surrogate escapes (`"\\ud800"`), which I-JSON (RFC 7493) forbids and a Swift string
    cannot hold, and no number past a double's range (`1e400`), which Python makes infinite: Python
    keeps both, the parser refuses them. Numbers compare as doubles, which is what JSONValue holds."""
    def refuse(constant):
        raise ValueError(constant)

    def first_wins(pairs):
        result = {}
        for key, value in pairs:
            result.setdefault(key, value)
        return result

    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    def finite(number):
        value = float(number)  # OverflowError for an integer past a double's range
        if math.isinf(value):
            raise ValueError(f"{number} is past a double's range")
        return value

    value = json.loads(text, parse_constant=refuse, object_pairs_hook=first_wins, parse_float=finite, parse_int=finite)
    if has_lone_surrogate(value):
        raise ValueError("unpaired surrogate")
    return value


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b) or (math.isinf(float(a)) and float(a) == float(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def test_the_json_parser_agrees_with_python(fuzz_binaries, tmp_path):
    inputs = corpus()
    paths = []
    for index, data in enumerate(inputs):
        path = tmp_path / f"{index:05}.json"
        path.write_bytes(data)
        paths.append(str(path))
    lines = subprocess.run([str(fuzz_binaries / "json-echo"), *paths], capture_output=True, text=True, check=True,
                           timeout=300).stdout.splitlines()
    assert len(lines) == len(inputs)
    disagreements = []
    for data, line in zip(inputs, lines):
        try:
            expected = python_value(data)
        except (ValueError, UnicodeDecodeError, RecursionError, OverflowError):
            expected = ValueError
        if expected is ValueError:
            if line != "invalid":
                disagreements.append((data[:120], "Python refuses, Swift accepts", line[:120]))
        elif line == "invalid":
            disagreements.append((data[:120], "Python accepts, Swift refuses", ""))
        elif not same(expected, json.loads(line)):
            disagreements.append((data[:120], "different values", line[:120]))
    assert not disagreements, f"{len(disagreements)} of {len(inputs)} inputs: " + "\n".join(map(repr, disagreements[:10]))
