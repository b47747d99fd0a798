"""firehose-normalize's job with the benchmark's settings (NORMALIZE_TIMESTAMP_FIELDS=timestamp), written
with Powertools as its documentation shows: keys lower-cased with `_` for anything a Glue column cannot
hold, nested objects flattened with `_`, `timestamp` in ISO 8601 UTC, one compact object and a newline per
record; a record that cannot be normalised fails with its original data."""

import json
import re
from datetime import datetime, timedelta, timezone

from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.serialization import base64_from_str

UNSAFE = re.compile(r"\W")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def clean(key):
    return UNSAFE.sub("_", key.lower())


def flatten(obj, prefix, out):
    for key, value in obj.items():
        key = prefix + clean(key)
        if isinstance(value, dict) and value:
            flatten(value, key + "_", out)
        else:
            out[key] = nested(value)


def nested(value):
    """Objects inside arrays keep their shape, with their keys cleaned."""
    if isinstance(value, dict):
        return {clean(k): nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nested(v) for v in value]
    return value


def nanoseconds(value):
    """Epoch numbers by size (seconds, milliseconds, ...), RFC 3339, or naive UTC text."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        size = abs(value)
        unit = 10**9 if size < 1e11 else 10**6 if size < 1e14 else 10**3 if size < 1e17 else 1
        return value * unit if isinstance(value, int) else round(value * unit)
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return (at - EPOCH) // timedelta(microseconds=1) * 1000


def iso(value):
    seconds, nanos = divmod(nanoseconds(value), 10**9)
    text = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = ("%09d" % nanos).rstrip("0")
    return text + ("." + fraction if fraction else "") + "Z"


def normalized(data):
    """The record normalised, as a dict (the chain goes on from here)."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    out = {}
    flatten(data, "", out)
    if "timestamp" in out:
        out["timestamp"] = iso(out["timestamp"])
    return out


def line(out):
    """One compact object and a newline."""
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False) + "\n"


@event_source(data_class=KinesisFirehoseEvent)
def handler(event, context):
    response = KinesisFirehoseDataTransformationResponse()
    for record in event.records:
        try:
            data = base64_from_str(line(normalized(record.data_as_json)))
            response.add_record(record.build_data_transformation_response(data=data))
        except Exception:
            response.add_record(
                record.build_data_transformation_response(result="ProcessingFailed", data=record.data)
            )
    return response.asdict()
