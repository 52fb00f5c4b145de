"""sendmessage: post {"action": "sendmessage", "data": TEXT}'s TEXT to every connection; drop the gone ones."""
import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    context_ = event["requestContext"]
    api = boto3.client("apigatewaymanagementapi",
                       endpoint_url=f"https://{context_['domainName']}/{context_['stage']}")
    data = json.loads(event.get("body") or "{}").get("data", "")
    for item in table.scan(ProjectionExpression="connectionId")["Items"]:
        try:
            api.post_to_connection(ConnectionId=item["connectionId"], Data=data.encode())
        except api.exceptions.GoneException:
            table.delete_item(Key={"connectionId": item["connectionId"]})
    return {"statusCode": 200, "body": "Data sent."}
