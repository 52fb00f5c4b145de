"""Issue #24, finding 7: `serve --store dynamodb` without a reachable endpoint hung silently, and the
AWS SDKs' standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` were ignored in favour of a
private `DYNAMODB_ENDPOINT`. Now the SDKs' variables, profiles and shared files are honoured, and a
store that cannot be reached fails at start-up with one line saying where and why."""
import socket
import subprocess
import uuid

import pytest

from stage import RunningStage, free_port

CLEAN = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def serve(local_runtime, root, tmp_path, environment, timeout=60):
    return subprocess.run([local_runtime, "serve", "--port", str(free_port()), "--store", "dynamodb",
                           "--state", str(tmp_path / "state.sqlite")],
                          cwd=root, env={**CLEAN, **environment}, capture_output=True, text=True, timeout=timeout)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT"])
def test_an_unreachable_endpoint_fails_fast_saying_where(local_runtime, root, tmp_path, variable):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = serve(local_runtime, root, tmp_path, {variable: endpoint, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                                                   "AWS_REGION": "us-east-1"})
    assert result.returncode != 0
    assert endpoint in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_silent_endpoint_fails_fast_too(local_runtime, root, tmp_path):
    silent = socket.create_server(("127.0.0.1", 0), backlog=1)
    try:
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = serve(local_runtime, root, tmp_path, {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "k",
                                                       "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"})
    finally:
        silent.close()
    assert result.returncode != 0
    assert endpoint in result.stdout + result.stderr


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"])
def test_the_sdks_endpoint_variables_reach_a_local_dynamodb(local_runtime, root, tmp_path, moto, variable):
    running = RunningStage(local_runtime, root, tmp_path, "--store", "dynamodb",
                           env={variable: moto, "TABLE_NAME": f"t-{uuid.uuid4().hex[:10]}", "AWS_ACCESS_KEY_ID": "k",
                                "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"})
    running.stop()


def test_the_service_variable_wins_over_the_global_one(local_runtime, root, tmp_path, moto):
    running = RunningStage(local_runtime, root, tmp_path, "--store", "dynamodb",
                           env={"AWS_ENDPOINT_URL_DYNAMODB": moto, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
                                "TABLE_NAME": f"t-{uuid.uuid4().hex[:10]}", "AWS_ACCESS_KEY_ID": "k",
                                "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"})
    running.stop()


def test_credentials_and_region_come_from_the_shared_files_under_a_profile(local_runtime, root, tmp_path, moto):
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n"
                           "[dev]\naws_access_key_id = from-file\naws_secret_access_key = secret-from-file\n")
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-west-1\n")
    table = f"t-{uuid.uuid4().hex[:10]}"
    environment = {"AWS_ENDPOINT_URL": moto, "TABLE_NAME": table, "AWS_PROFILE": "dev",
                   "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config)}
    running = RunningStage(local_runtime, root, tmp_path, "--store", "dynamodb", env={**CLEAN, **environment})
    running.stop()
    import boto3
    dynamodb = boto3.client("dynamodb", endpoint_url=moto, region_name="eu-west-1",
                            aws_access_key_id="from-file", aws_secret_access_key="x")
    assert table in dynamodb.list_tables()["TableNames"], "the table is in the profile's region"


def test_missing_credentials_are_one_clear_line(local_runtime, root, tmp_path, moto):
    result = serve(local_runtime, root, tmp_path, {"AWS_ENDPOINT_URL": moto, "AWS_REGION": "us-east-1",
                                                   "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")})
    assert result.returncode != 0
    assert "AWS_ACCESS_KEY_ID" in result.stdout + result.stderr
