"""The Lambda `bootstrap` links FoundationEssentials, never all of Foundation.

swift-crypto 3's `Crypto` imports Foundation, and without MemberImportVisibility its String
extensions leak into every module above it: one `text.contains("...")` then resolves to
Foundation's `range(of:)` and links Foundation and ICU's data into the static bootstrap (stripped
31 MB -> 75 MB, over the 15 MB zip target; BENCHMARKS.md). Checking the static binary needs a
release build, so this checks the setting that prevents it on every target the bootstrap is built from.
"""
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def package():
    result = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def local_targets_of(product_target, targets):
    """The package's own targets that `product_target` is built from, itself included."""
    seen, pending = set(), [product_target]
    while pending:
        name = pending.pop()
        if name in seen or name not in targets:
            continue
        seen.add(name)
        for dependency in targets[name]["dependencies"]:
            if "byName" in dependency:
                pending.append(dependency["byName"][0])
            elif "target" in dependency:
                pending.append(dependency["target"][0])
    return seen


def is_swift(target):
    """Whether the target compiles Swift (C targets, such as CGlibcCompatibility, have no imports to restrict)."""
    if target["type"] == "system":
        return False
    sources = ROOT / (target.get("path") or f"Sources/{target['name']}")
    return any(sources.rglob("*.swift"))


def enables_member_import_visibility(target):
    return any(setting.get("kind", {}).get("enableUpcomingFeature", {}).get("_0") == "MemberImportVisibility"
               for setting in target.get("settings", []))


def test_every_swift_target_of_the_bootstrap_restricts_member_lookup_to_its_imports():
    targets = {target["name"]: target for target in package()["targets"]}
    built_from = local_targets_of("Bootstrap", targets)
    assert {"Handlers", "SQLiteStore", "LambdaRuntime"} <= built_from
    assert "CGlibcCompatibility" in built_from and not is_swift(targets["CGlibcCompatibility"])
    missing = sorted(name for name in built_from
                     if is_swift(targets[name]) and not enables_member_import_visibility(targets[name]))
    assert missing == [], f"targets linked into bootstrap without MemberImportVisibility: {missing}"
