"""Answers with CORS headers of its own, which an HTTP API with CORS settings replaces."""


def handler(event, context):
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://elsewhere.example", "x-request-id": "r1"}, "body": "items"}
