"""Signs each request of a JSON table with botocore's SigV4Auth, the reference the Swift signer is
held to. Reads {"cases": [...]} on stdin, prints the list of Authorization headers on stdout."""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def authorization(case):
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode("utf-8"),
                         params=[tuple(pair) for pair in case["params"]])
    for name, value in case["headers"]:
        request.headers[name] = value  # email.message semantics: a repeated name adds a field
    if case["unsigned"]:
        request.context["payload_signing_enabled"] = False
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("session_token"))
    now = datetime.datetime.fromtimestamp(case["epoch"], datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    return request.headers["Authorization"]


if __name__ == "__main__":
    json.dump([authorization(case) for case in json.load(sys.stdin)["cases"]], sys.stdout)
