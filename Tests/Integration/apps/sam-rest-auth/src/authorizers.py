"""REST API authorizers: TOKEN (the X-Token header) and REQUEST (the `token` query string)."""


def _policy(effect, resource):
    return {
        "principalId": "user-ada",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
        "context": {"user": "ada", "level": 3, "admin": False},
    }


def token(event, context):
    """allow, deny, other (allows another method only), fail (an error), unauthorized (API Gateway's 401),
    nested (a context API Gateway cannot pass on)."""
    assert event["type"] == "TOKEN" and set(event) == {"type", "authorizationToken", "methodArn"}, event
    value = event["authorizationToken"]
    if value == "unauthorized":
        raise Exception("Unauthorized")
    if value == "fail":
        raise RuntimeError("the authorizer failed")
    if value == "nested":
        return {**_policy("Allow", event["methodArn"]), "context": {"user": {"name": "ada"}}}
    if value == "other":
        return _policy("Allow", event["methodArn"].rsplit("/", 2)[0] + "/POST/elsewhere")
    return _policy("Allow" if value == "allow" else "Deny", event["methodArn"])


def request(event, context):
    """Allows `?token=allow`, after checking it got the method request's proxy event."""
    assert event["type"] == "REQUEST" and event["httpMethod"] == "GET" and event["path"] == "/request", event
    allowed = (event.get("queryStringParameters") or {}).get("token") == "allow"
    return _policy("Allow" if allowed else "Deny", event["methodArn"])
