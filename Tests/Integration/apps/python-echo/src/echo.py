"""Echoes the message body back, tagged with the code's version."""
VERSION = "v1"


def handler(event, context):
    return {"statusCode": 200, "body": f"{VERSION}: {event.get('body')}"}
