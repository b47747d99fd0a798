"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/,
from the test fixtures and golden inputs: a few files per parser or function,
each starting with the byte that chooses it (see fuzzing/src/). Run it with the
test venv's Python (it needs cbor2 and pyarrow) from the repository root:
    .venv/bin/python fuzz/seeds.py
Seeds are named seed-*; minimising the corpus after a campaign (-merge=1, docs/testing.md) names what it
keeps by hash. Inputs that broke an invariant go to fuzz/regressions/<target>/, which no tool rewrites.
"""

import base64
import gzip
import hashlib
import json
import pathlib

import cbor2
import pyarrow as pa
import pyarrow.orc as orc

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"
RS = b"\x1e"


def write(target, choice, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    data = (bytes([choice]) if choice is not None else b"") + data
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    (folder / name).write_bytes(data)


def event(records):
    return json.dumps({
        "invocationId": "seed",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/seed",
        "region": "us-east-1",
        "records": [
            {"recordId": f"r{i}", "approximateArrivalTimestamp": 1714566600000 + i,
             "data": base64.b64encode(r).decode()}
            for i, r in enumerate(records)
        ],
    }).encode()


def lines(path):
    return [l for l in path.read_bytes().split(b"\n") if l.strip()]


json_records = lines(FIX / "demo" / "stock-ticker.ndjson")[:3] + [
    b'{"Id": 7, "level": "INFO", "ts": 1714566600000, "at": "2024-05-01T12:30:00Z", "msg": "ok", "Amount": 12.5}',
    b'{"Id": 8, "level": "DEBUG", "ts": 1714566600, "User.Name": "ann", "Geo": {"Lat": 1.5, "Tags": ["a", {"K.1": null}]}}',
    b'{"a.b": 1, "A_B": 2, "user_id": "u", "big": 123456789012345678901234567890, "f": -1.5e300, "s": "\\u00e9\\"\\n"}\n',
    b'\xef\xbb\xbf{"time": "2024-05-01 12:30:00", "x": {}}',
]
access = lines(FIX / "logs" / "access.log")
syslog = lines(FIX / "logs" / "syslog.log")
cloudwatch_event = json.loads((FIX / "public" / "ukhomeoffice-cloudwatch-logs-event.json").read_text())
cloudwatch_payloads = [gzip.decompress(base64.b64decode(r["data"])) for r in cloudwatch_event["records"]]
cloudwatch_payloads.append(json.dumps({
    "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/app", "logStream": "s",
    "subscriptionFilters": ["f"],
    "logEvents": [{"id": "1", "timestamp": 1714566600000, "message": '{"level":"INFO","n":1}'},
                  {"id": "2", "timestamp": 1714566600001, "message": "plain text"}],
}).encode())
cloudwatch_payloads.append(json.dumps({"messageType": "CONTROL_MESSAGE", "logEvents": []}).encode())

# invocation: every fixture event for the JSON functions, log events for the log functions.
events = [p.read_bytes() for p in sorted((FIX / "public").glob("*.json"))]
events += [p.read_bytes() for p in sorted((FIX / "adversarial").glob("*.json"))]
events.append(event(json_records))
for function in (0, 1, 2, 3, 7):
    for e in events:
        write("invocation", function, e)
write("invocation", 4, event(access))
write("invocation", 5, event(syslog))
write("invocation", 6, json.dumps(cloudwatch_event).encode())
write("invocation", 6, event([gzip.compress(p) for p in cloudwatch_payloads]))

# line_parsers: 0-3 access log, 4-6 syslog, 7-8 CloudWatch Logs payloads (gzipped by the target).
for choice in range(4):
    write("line_parsers", choice, RS.join(access))
    write("line_parsers", choice, access[0] + b"\n")
for choice in range(4, 7):
    write("line_parsers", choice, RS.join(syslog))
    write("line_parsers", choice, syslog[-1])
for choice in (7, 8):
    for p in cloudwatch_payloads:
        write("line_parsers", choice, p)

# normalize: JSON records under each of its four settings.
for choice in range(4):
    for r in json_records:
        write("normalize", choice, r)

# response: scripts (op, size low, size high) under each limit.
scripts = [bytes([op, size & 0xFF, size >> 8]) + b"pad" for op, size in
           [(0, 0), (1, 0), (2, 0), (3, 0), (4, 10), (5, 40), (6, 20), (4, 3000), (5, 700)]]
for choice in range(5):
    write("response", choice, RS.join(scripts))
    write("response", choice, RS.join([bytes([4, 0x10, 0x27])] * 3))

# local_inputs: 0 template, 1 prefix, 2 KDG template, 3-4 rows, 5 Glue table, 6 JSON input, 7 error object, 8 KPL.
for path in [ROOT / "template.yaml", *sorted((FIX / "run").glob("*.yaml")), *sorted((FIX / "convert").glob("*.yaml"))]:
    write("local_inputs", 0, path.read_bytes())
for prefix in ["rawdata/", "", "logs/!{timestamp:yyyy/MM/dd/HH}/", "!{partitionKeyFromQuery:customer}/!{partitionKeyFromLambda:level}/",
               "e/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd'T'HH}/!{firehose:random-string}/", "x/!{timestamp:}"]:
    write("local_inputs", 1, prefix.encode())
write("local_inputs", 2, (FIX / "generate" / "ticker.tmpl").read_bytes())
write("local_inputs", 2, b'{"at": "{{date.now("YYYY-MM-DD HH:mm:ss")}}", "id": "{{random.uuid}}", "n": {{random.number(9)}}}')
for choice, path in ((3, "types.ndjson"), (4, "hive.ndjson")):
    for l in lines(FIX / "convert" / path):
        write("local_inputs", choice, l)
write("local_inputs", 5, json.dumps({"Table": {"Name": "t", "DatabaseName": "d", "CatalogId": "123456789012",
    "VersionId": "1", "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"},
    {"Name": "b", "Type": "struct<c:array<map<string,decimal(5,2)>>>"}]},
    "PartitionKeys": [{"Name": "day", "Type": "string"}]}}).encode())
write("local_inputs", 6, b'{"data":"aGVsbG8=","partitionKey":"p"}\n{"data":"x"}\n')
for path in sorted((FIX / "run").glob("*.ndjson")):
    write("local_inputs", 6, b"\n".join(lines(path)[:4]))
write("local_inputs", 7, (FIX / "public" / "ukhomeoffice-processing-failed-object.ndjson").read_bytes())
write("local_inputs", 7, gzip.compress((FIX / "public" / "ukhomeoffice-processing-failed-object.ndjson").read_bytes()))
write("local_inputs", 8, (FIX / "serve" / "kpl-aggregate.bin").read_bytes())

# service_api: byte 0 the API and protocol (Firehose JSON, Kinesis JSON, Kinesis CBOR), byte 1 the operation.
put = {"DeliveryStreamName": "s", "Record": {"Data": base64.b64encode(b'{"n":1}').decode()}}
batch = {"DeliveryStreamName": "s", "Records": [{"Data": base64.b64encode(b"a").decode()}, {"Data": "!!"}]}
for op, body in enumerate([put, batch, {"DeliveryStreamName": "s", "Limit": 2}, {"Limit": 5, "DeliveryStreamType": "DirectPut"}]):
    write("service_api", 0, bytes([op]) + json.dumps(body).encode())
kinesis = [
    {"StreamName": "fuzz", "Data": b'{"n":1}', "PartitionKey": "p", "ExplicitHashKey": "12345"},
    {"StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/fuzz",
     "Records": [{"Data": b"a", "PartitionKey": "k"}, {"Data": b"", "PartitionKey": "k2"}]},
    {"StreamName": "fuzz", "Limit": 2, "ExclusiveStartShardId": "shardId-000000000001"},
    {"StreamName": "fuzz"},
    {"StreamName": "fuzz", "MaxResults": 2, "ShardFilter": {"Type": "AT_LATEST"}},
    {"Limit": 1, "ExclusiveStartStreamName": "a"},
]
for op, body in enumerate(kinesis):
    as_json = {k: (base64.b64encode(v).decode() if isinstance(v, bytes) else v) for k, v in body.items()}
    if "Records" in as_json:
        as_json["Records"] = [{**r, "Data": base64.b64encode(r["Data"]).decode()} for r in body["Records"]]
    write("service_api", 1, bytes([op]) + json.dumps(as_json).encode())
    write("service_api", 2, bytes([op]) + cbor2.dumps(body))

# orc_reader: small ORC files from Apache ORC's C++ writer (pyarrow), under each codec and format version,
# with dictionaries and without: nulls at every level, nesting, every Hive type, PATCHED_BASE integers.
rows = 40
wide = [(1 << 40) if i % 17 == 0 else i for i in range(rows)]
table = pa.table({
    "b": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(rows)], pa.bool_()),
    "t": pa.array([i - 20 for i in range(rows)], pa.int8()),
    "i": pa.array([None if i % 7 == 0 else w for i, w in enumerate(wide)], pa.int64()),
    "d": pa.array([i / 3 for i in range(rows)], pa.float64()),
    "f": pa.array([i / 7 for i in range(rows)], pa.float32()),
    "s": pa.array([["red", "green", "blue"][i % 3] if i % 4 else None for i in range(rows)]),
    "bin": pa.array([bytes([i]) * (i % 3) for i in range(rows)], pa.binary()),
    "dec": pa.array([None if i % 6 == 0 else i * 101 for i in range(rows)], pa.decimal128(7, 2)),
    "day": pa.array([19_000 + i for i in range(rows)], pa.date32()),
    "at": pa.array([1_714_566_600_000_000 + i * 1_500_001 for i in range(rows)], pa.timestamp("us")),
    "list": pa.array([None if i % 9 == 0 else [f"x{j}" for j in range(i % 4)] for i in range(rows)],
                     pa.list_(pa.string())),
    "map": pa.array([[("k", i), ("l", None)] if i % 3 else None for i in range(rows)],
                    pa.map_(pa.string(), pa.int32())),
    "row": pa.array([None if i % 8 == 0 else {"a": i, "n": {"z": str(i) if i % 2 else None}} for i in range(rows)],
                    pa.struct([("a", pa.int32()), ("n", pa.struct([("z", pa.string())]))])),
})
for compression in ["uncompressed", "zlib", "snappy"]:
    for version in ["0.11", "0.12"]:
        for dictionary in [0.0, 1.0]:
            out = pa.BufferOutputStream()
            orc.write_table(table, out, file_version=version, compression=compression,
                            dictionary_key_size_threshold=dictionary, stripe_size=4 << 10, row_index_stride=1000)
            write("orc_reader", None, out.getvalue().to_pybytes())
