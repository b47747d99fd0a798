"""firehose-pipeline's chain `normalize,filter,validate,enrich` with the benchmark's settings, as a Python user
writes it: Powertools for the batch, normalize.py's normalisation, a Python predicate for the filter (DEBUG
records are dropped), the same JSON Schema (chain_schema.json) compiled once by fastjsonschema (a record that
does not match fails with its original data), then two static fields and the arrival time added after the
record's own keys, which keep their values."""

import json
from datetime import datetime, timezone
from pathlib import Path

import fastjsonschema
from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.serialization import base64_from_str

from normalize import line, normalized

validate = fastjsonschema.compile(json.loads((Path(__file__).parent / "chain_schema.json").read_text()))
STATIC = {"env": "prod", "pipeline": "firehose-bench"}


def arrival(millis):
    """Epoch milliseconds as ISO 8601 UTC with three fraction digits."""
    seconds, fraction = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % fraction


def enrich(out, record):
    for key, value in STATIC.items():
        out.setdefault(key, value)
    out.setdefault("arrived_at", arrival(record.approximate_arrival_timestamp))


@event_source(data_class=KinesisFirehoseEvent)
def handler(event, context):
    response = KinesisFirehoseDataTransformationResponse()
    for record in event.records:
        try:
            out = normalized(record.data_as_json)
            if out.get("level") == "DEBUG":
                response.add_record(record.build_data_transformation_response(result="Dropped"))
                continue
            validate(out)
            enrich(out, record)
            response.add_record(record.build_data_transformation_response(data=base64_from_str(line(out))))
        except Exception:
            response.add_record(
                record.build_data_transformation_response(result="ProcessingFailed", data=record.data)
            )
    return response.asdict()
