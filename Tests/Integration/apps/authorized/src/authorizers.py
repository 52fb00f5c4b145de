"""Authorizers keyed on a token: "allow", "deny", or "fail" (raises)."""


def _token(event):
    return (event.get("queryStringParameters") or {}).get("token") or (event.get("headers") or {}).get("authorization")


def policy(event, context):
    token = _token(event)
    if token == "fail":
        raise RuntimeError("the authorizer failed")
    resource = event.get("methodArn") or event["routeArn"]
    return {
        "principalId": "user-ada",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow" if token == "allow" else "Deny", "Resource": resource}],
        },
        "context": {"user": "ada", "tier": "gold"},
    }


def simple(event, context):
    token = _token(event)
    if token == "fail":
        raise RuntimeError("the authorizer failed")
    return {"isAuthorized": token == "allow", "context": {"user": "ada"}}
