"""template.json is a deployable SAM template: clean under cfn-lint and `sam validate --lint`."""
import json
import os
import subprocess


def test_cfn_lint_reports_nothing(root):
    result = subprocess.run(["cfn-lint", "template.json"], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes(root):
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(["sam", "validate", "--lint", "-t", "template.json"], cwd=root, capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_the_http_api_declares_no_cors_configuration_so_the_handler_answers_cors(root):
    template = json.loads((root / "template.json").read_text())
    apis = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi"]
    assert apis and all("CorsConfiguration" not in api.get("Properties", {}) for api in apis)


def test_functions_run_on_provided_al2023_with_the_packaged_bootstrap(root):
    template = json.loads((root / "template.json").read_text())
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "provided.al2023"
    assert function_globals["CodeUri"] == "dist/lambda/bootstrap.zip"
    handlers = {r["Properties"]["Handler"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"}
    assert {"connect", "disconnect", "sendMessage", "chat"} <= handlers
