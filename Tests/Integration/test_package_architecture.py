"""The packaged zip's architecture is the template's (SPEC §5.6): a bootstrap of another machine deploys
without complaint and then fails every invocation with an exec format error, so scripts/package reads
the binary's ELF header and refuses a mismatch."""
import json
import os
import platform
import shutil
import struct
import subprocess
import zipfile

import pytest

ELF_MACHINES = {62: "x86_64", 183: "arm64"}


def elf_architecture(data: bytes) -> str:
    assert data[:4] == b"\x7fELF", "not an ELF file"
    (machine,) = struct.unpack_from("<H", data, 18)
    return ELF_MACHINES.get(machine, f"e_machine {machine}")


def template_architecture(root) -> str:
    template = json.loads((root / "template.json").read_text())
    return template["Parameters"]["Architecture"]["Default"]


def host_architecture() -> str:
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]


def other_architecture() -> str:
    return "arm64" if host_architecture() == "x86_64" else "x86_64"


def test_every_function_deploys_the_one_architecture_parameter(root):
    template = json.loads((root / "template.json").read_text())
    parameter = template["Parameters"]["Architecture"]
    assert set(parameter["AllowedValues"]) == {"x86_64", "arm64"}
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all("Architectures" not in f["Properties"] for f in functions)


def test_the_packaged_zip_is_built_for_the_architecture_the_template_deploys(root):
    archive = root / "dist" / "lambda" / "bootstrap.zip"
    if not archive.exists():
        pytest.skip("dist/lambda/bootstrap.zip does not exist: scripts/test runs scripts/package before pytest")
    with zipfile.ZipFile(archive) as zipped:
        bootstrap = zipped.read("bootstrap")
    recorded = (root / "dist" / "lambda" / "architecture").read_text().strip()
    assert elf_architecture(bootstrap) == recorded
    # A zip built with ARCHITECTURE=… for a deploy with the same override is fine; the test suite's is
    # built for the template's default, which a plain `sam deploy` uses.
    if not os.environ.get("ARCHITECTURE"):
        assert elf_architecture(bootstrap) == template_architecture(root)


def test_the_check_names_the_architecture_of_a_binary(root, tmp_path):
    binary = tmp_path / "bootstrap"
    shutil.copy(shutil.which("true"), binary)
    result = subprocess.run([str(root / "scripts" / "check-architecture"), str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == host_architecture()


def test_the_check_refuses_a_binary_of_another_architecture(root, tmp_path):
    binary = tmp_path / "bootstrap"
    shutil.copy(shutil.which("true"), binary)
    result = subprocess.run([str(root / "scripts" / "check-architecture"), str(binary), other_architecture()],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"is an {host_architecture()} binary" in result.stderr
    assert f"Architecture={other_architecture()}" in result.stderr


def test_the_check_reads_the_header_not_the_host(root, tmp_path):
    """An aarch64 header (e_machine 183) is arm64 wherever the check runs, and is refused for x86_64."""
    data = bytearray(open(shutil.which("true"), "rb").read(64))
    struct.pack_into("<H", data, 18, 183)
    binary = tmp_path / "bootstrap"
    binary.write_bytes(bytes(data))
    check = str(root / "scripts" / "check-architecture")
    assert subprocess.run([check, str(binary)], capture_output=True, text=True).stdout.strip() == "arm64"
    refused = subprocess.run([check, str(binary), "x86_64"], capture_output=True, text=True)
    assert refused.returncode == 1 and "is an arm64 binary" in refused.stderr
    struct.pack_into("<H", data, 18, 3)  # i386: not a Lambda architecture
    binary.write_bytes(bytes(data))
    assert subprocess.run([check, str(binary)], capture_output=True, text=True).returncode == 2
    binary.write_text("#!/bin/sh\n")
    assert subprocess.run([check, str(binary)], capture_output=True, text=True).returncode == 2


@pytest.mark.parametrize("how", ["environment", "parameter-overrides"])
def test_package_refuses_to_build_another_architecture_than_this_machine_builds(root, how):
    """Refused before anything is built, so this costs no build: the zip could never match."""
    target = other_architecture()
    env = {**os.environ, "ARCHITECTURE": target} if how == "environment" else {k: v for k, v in os.environ.items() if k != "ARCHITECTURE"}
    args = [] if how == "environment" else ["--parameter-overrides", f"StageName=prod Architecture={target}"]
    result = subprocess.run([str(root / "scripts" / "package"), *args], cwd=root, capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"deploys Architecture={target}" in result.stderr
    assert f"Architecture={host_architecture()}" in result.stderr


def test_package_refuses_disagreeing_overrides(root):
    env = {**os.environ, "ARCHITECTURE": "x86_64"}
    result = subprocess.run([str(root / "scripts" / "package"), "--parameter-overrides", "Architecture=arm64"], cwd=root,
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "disagree" in result.stderr
