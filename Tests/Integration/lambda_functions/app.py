"""A Python function run by awslambdaric against local-runtime's Runtime API."""
import time


def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"echo": event, "request_id": context.aws_request_id,
            "remaining_ms_positive": context.get_remaining_time_in_millis() > 0}
