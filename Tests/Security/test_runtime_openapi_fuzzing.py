"""The HTTP API and `@connections` fuzzed from their OpenAPI description (docs/openapi.yaml) with
schemathesis against a live stage: no 5xx for any input, and every response — status, content type,
headers, body — as the document describes it. Bounded: a fixed number of examples per operation
and a timeout that only catches a hang."""
import os
import pathlib
import subprocess
import sys

OPENAPI = pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# Checks that do not fit this API, on purpose:
# - positive_data_acceptance: schema-valid chat bodies are still refused by policy (content filter,
#   rate limits, unknown widgets), which is the point of the API;
# - unsupported_method / allow_header_conformance: an HTTP API route that does not declare a method
#   is answered 404 by API Gateway (no route), not 405 with Allow;
# - use_after_free: DELETE of a widget deactivates it and keeps the record (SPEC §4.6, README).
EXCLUDED_CHECKS = "positive_data_acceptance,unsupported_method,allow_header_conformance,use_after_free"


def test_the_http_api_and_connections_match_their_openapi_document(stage, local_runtime, root, tmp_path):
    token = subprocess.run([local_runtime, "admin", "token", "--state", str(tmp_path / "state.sqlite")], cwd=root,
                           capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    seed = os.environ.get("SCHEMATHESIS_SEED", "20261206")
    command = [sys.executable, "-m", "schemathesis.cli", "run", str(OPENAPI), "--url", stage.http_url,
               "-H", f"Authorization: Bearer {token}", "--max-examples", os.environ.get("SCHEMATHESIS_EXAMPLES", "60"),
               # Not the coverage phase: under CPython 3.11 it intermittently fails inside schemathesis itself
               # ("AST constructor recursion depth mismatch"), which says nothing about the API.
               "--phases", "examples,fuzzing,stateful", "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
               "--seed", seed, "--workers", "2", "--request-timeout", "30", "--no-color",
               "--generation-database", "none", "--report-dir", str(tmp_path / "schemathesis")]
    # In the test's directory: schemathesis keeps a cache of what it found under the working directory.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert " generated, " in result.stdout and " passed" in result.stdout, result.stdout[-5000:]
    failed_invocations = [line for line in stage.lines if "  500  " in line or "  error" in line]
    assert not failed_invocations, "\n".join(failed_invocations[:20])


def test_the_openapi_document_is_a_valid_openapi_3_1_description():
    """A validator nobody here wrote reads the document the fuzzing above trusts."""
    import yaml
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    document = yaml.safe_load(OPENAPI.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)
