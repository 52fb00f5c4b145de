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


# --- what an AWS reviewer checks (issue #26) ---

API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 29
# Kept free under the limit for a cold start's init (the runtime's init is ~100 ms; Lambda allows 10 s
# but API Gateway counts it) and the round trips around the invocation.
INIT_AND_NETWORK_HEADROOM_SECONDS = 4


def template_json(root):
    return json.loads((root / "template.json").read_text())


def function_timeout(template, function):
    return function["Properties"].get("Timeout", template["Globals"]["Function"].get("Timeout", 3))


def test_functions_time_out_before_api_gateway_gives_up_on_them(root):
    """API Gateway stops waiting after 29 s; a function that runs longer is billed for an answer nobody
    gets and the client sees a 504 instead of the friendly fallback. The AI provider's deadline is the
    invocation's less 1 s (OpenAIProvider.Timeouts.reserve), so the fallback is sent in time too."""
    template = template_json(root)
    for handler, function in functions_by_handler(template).items():
        timeout = function_timeout(template, function)
        assert timeout + INIT_AND_NETWORK_HEADROOM_SECONDS <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS, handler
        for event in function["Properties"].get("Events", {}).values():
            assert event["Properties"]["TimeoutInMillis"] <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS * 1000
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ApiGatewayV2::Integration":
            assert resource["Properties"]["TimeoutInMillis"] <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS * 1000


def policy_statements(function):
    statements = []
    for policy in function["Properties"]["Policies"]:
        assert set(policy) == {"Statement"}, "only inline statements: SAM policy templates grant more than a function uses"
        statements += policy["Statement"]
    return statements


def test_each_function_may_do_only_what_it_does(root):
    """Derived from the store calls each handler makes and the DynamoDB operations DynamoDBStore sends
    for them (GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem, Query, TransactWriteItems of
    Put/Delete with conditions); nobody may Scan, write in batches, or touch the table's definition.
    BatchGetItem reads only what GetItem may: a chat message's admission reads the client's block and
    limits in one call, and the admin's event listing reads the events the index names."""
    template = template_json(root)
    expected = {
        "connect": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
        "disconnect": {"dynamodb:DeleteItem"},
        "sendMessage": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                        "dynamodb:DeleteItem", "execute-api:ManageConnections"},
        "chat": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
        "admin": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
                  "dynamodb:Query"},
    }
    for handler, function in functions_by_handler(template).items():
        statements = policy_statements(function)
        actions = {action for statement in statements for action in statement["Action"]}
        assert actions == expected[handler], handler
        for statement in statements:
            assert statement["Effect"] == "Allow" and "*" not in json.dumps(statement["Action"])
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                text = json.dumps(resource)
                if any(action.startswith("dynamodb:") for action in statement["Action"]):
                    assert "ChatStateTable" in text
                    assert "/index/" not in text or handler == "admin"  # only admin reads the security-event index
                else:
                    assert "${ChatWebSocketApi}/${StageName}/POST/@connections/*" in text


def test_api_gateway_invokes_only_the_live_alias_of_its_own_route(root):
    template = template_json(root)
    resources = template["Resources"]
    routes = {"Connect": "$connect", "Disconnect": "$disconnect", "SendMessage": "sendMessage"}
    for prefix, route_key in routes.items():
        assert resources[f"{prefix}Route"]["Properties"]["RouteKey"] == route_key
        uri = resources[f"{prefix}Integration"]["Properties"]["IntegrationUri"]["Fn::Sub"]
        assert uri[1] == {"FunctionAlias": {"Ref": f"{prefix}Function.Alias"}}
        permission = resources[f"{prefix}Permission"]["Properties"]
        assert permission["FunctionName"] == {"Ref": f"{prefix}Function.Alias"}
        assert permission["SourceArn"]["Fn::Sub"].endswith(f":${{ChatWebSocketApi}}/${{StageName}}/{route_key}")


def test_new_versions_shift_traffic_gradually_and_roll_back_on_errors(root):
    template = template_json(root)
    assert template["Globals"]["Function"]["AutoPublishAlias"] == "live"
    for handler, function in functions_by_handler(template).items():
        preference = function["Properties"]["DeploymentPreference"]
        assert preference["Type"] == {"Ref": "DeploymentType"}
        (alarm,) = preference["Alarms"]
        alarm = template["Resources"][alarm["Ref"]]["Properties"]
        assert alarm["MetricName"] == "Errors" and alarm["Namespace"] == "AWS/Lambda"
        assert {"Name": "Resource", "Value": {"Fn::Sub": f"${{{handler[0].upper() + handler[1:]}Function}}:live"}} in alarm["Dimensions"]
    assert "Canary10Percent5Minutes" == template["Parameters"]["DeploymentType"]["Default"]


def test_tracing_logs_and_metrics_are_on(root):
    template = template_json(root)
    resources = template["Resources"]
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    for handler, function in functions_by_handler(template).items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        group = resources[logging["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for api in (resources["ChatWebSocketStage"]["Properties"], resources["ChatHttpApi"]["Properties"]):
        assert api["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True
        destination = api["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
        assert resources[destination]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        access_log = json.loads(api["AccessLogSettings"]["Format"])
        assert {"requestId", "ip", "routeKey", "status"} <= set(access_log)


def test_the_table_outlives_the_stack(root):
    table = template_json(root)["Resources"]["ChatStateTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_custom_domains_are_optional_and_then_replace_execute_api_hosts_in_the_outputs(root):
    template = template_json(root)
    resources = template["Resources"]
    for name in ("HttpApiDomainName", "WebSocketDomainName", "DomainCertificateArn", "HostedZoneId"):
        assert template["Parameters"][name]["Default"] == ""
    for logical_id, resource in resources.items():
        if resource["Type"] in {"AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping", "AWS::Route53::RecordSet"}:
            assert resource.get("Condition") in {"HasHttpApiDomain", "HasWebSocketDomain", "CreateHttpApiRecord", "CreateWebSocketRecord"}, logical_id
    outputs = template["Outputs"]
    assert outputs["WebSocketUrl"]["Value"]["Fn::If"][0] == "HasWebSocketDomain"
    assert outputs["HttpApiUrl"]["Value"]["Fn::If"][0] == "HasHttpApiDomain"
    # @connections stays on execute-api (backend-only, and what the IAM statement names).
    env = functions_by_handler(template)["sendMessage"]["Properties"]["Environment"]["Variables"]
    assert "execute-api" in env["WEBSOCKET_MANAGEMENT_ENDPOINT"]["Fn::Sub"]


def alarms(template):
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_seed_002_security_thresholds_are_alarms_on_the_functions_metrics(root):
    """The security policy's alarm thresholds: rate_limit_exceeded > 100/min, domain_not_allowed > 50/min, suspicious_content > 10/min,
    widget_not_found > 200/min, message_too_long > 50/min, on the metrics the functions emit (EMF)."""
    template = template_json(root)
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"]
    by_metric = {a["MetricName"]: a for a in alarms(template).values() if a["Namespace"] == namespace}
    for metric, threshold in {"RateLimitExceeded": 100, "DomainNotAllowed": 50, "SuspiciousContent": 10, "WidgetNotFound": 200,
                              "MessageTooLong": 50}.items():
        alarm = by_metric[metric]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 1), metric
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, "GreaterThanThreshold"), metric
        assert "Dimensions" not in alarm  # the aggregate over every function (the EMF lines' empty dimension set)


def test_health_alarms_cover_lambda_dynamodb_and_api_gateway_and_notify_the_topic(root):
    template = template_json(root)
    declared = alarms(template)
    watched = {(a["Namespace"], a["MetricName"]) for a in declared.values() if isinstance(a["Namespace"], str)}
    assert {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"), ("AWS/Lambda", "Duration"), ("AWS/DynamoDB", "ReadThrottleEvents"),
            ("AWS/DynamoDB", "WriteThrottleEvents"), ("AWS/ApiGateway", "5xx"), ("AWS/ApiGateway", "ExecutionError")} <= watched
    functions = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    for metric in ("Errors", "Throttles", "Duration"):
        covered = {json.dumps(d["Value"]) for a in declared.values() if a["MetricName"] == metric for d in a.get("Dimensions", [])
                   if d["Name"] == "FunctionName"}
        assert covered == {json.dumps({"Ref": f}) for f in functions}, metric
    for name, alarm in declared.items():
        assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}, name
        assert alarm["OKActions"] == alarm["AlarmActions"]
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
