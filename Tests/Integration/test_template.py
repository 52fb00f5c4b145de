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


SECRET_VARIABLES = {"ADMIN_JWT_SECRET", "AI_API_KEY", "CONVERSATION_TOKEN_SECRET"}


def functions_by_handler(template):
    return {r["Properties"]["Handler"]: r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"}


def test_secrets_never_pass_through_parameters(root):
    """A parameter's value shows in the console, change sets and `sam deploy`'s saved config; secrets come
    from Secrets Manager through dynamic references that CloudFormation resolves at deploy time."""
    template = json.loads((root / "template.json").read_text())
    for name, parameter in template["Parameters"].items():
        assert name not in {"AdminJwtSecret", "AiApiKey"}
        if "secret" in name.lower() and name != "SecretsRevision":
            # Only names (or ARNs) of secrets, never their values.
            assert "name or arn" in parameter["Description"].lower(), name
    assert not SECRET_VARIABLES & set(template["Globals"]["Function"]["Environment"]["Variables"])
    text = json.dumps(template)
    assert "ssm-secure" not in text  # Lambda environment variables do not take ssm-secure references


def test_each_secret_reaches_only_the_functions_that_read_it(root):
    template = json.loads((root / "template.json").read_text())
    wanted = {"admin": {"ADMIN_JWT_SECRET"}, "sendMessage": {"AI_API_KEY", "CONVERSATION_TOKEN_SECRET"}, "chat": {"AI_API_KEY"},
              "connect": set(), "disconnect": set()}
    for handler, function in functions_by_handler(template).items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert SECRET_VARIABLES & set(variables) == wanted[handler], handler
        for name in SECRET_VARIABLES & set(variables):
            assert "{{resolve:secretsmanager:" in json.dumps(variables[name]), (handler, name)


def test_generated_secrets_are_secrets_manager_secrets_of_the_stack(root):
    template = json.loads((root / "template.json").read_text())
    for logical_id in ("AdminJwtSecret", "ConversationTokenSecret"):
        secret = template["Resources"][logical_id]
        assert secret["Type"] == "AWS::SecretsManager::Secret"
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
