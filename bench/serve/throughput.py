"""firehose-local serve's throughput, beside run on the same records and beside moto's server, in one run.

Producers are `firehose-local generate --to-firehose` processes, all started at once, each sending its own
seeded records (bench/serve/access.tmpl, about 317 bytes each) with PutRecordBatch. The same records, written
to files first, are `run`'s input. Each process's CPU time (user + system, read from /proc/PID/stat once it
has exited and before it is reaped, so that nothing it did is missed) is reported per GB of records, and the
wall time runs from the producers' start to the last object written (serve: its exit after SIGTERM, which
flushes every buffer; moto writes an object per call, so its last call).

Each figure is the median of --rounds runs, with the lowest and highest in brackets.

Usage, from the repository root after the README's test command (it makes .venv with moto and boto3):
    .venv/bin/python bench/serve/throughput.py [--producers 2] [--megabytes 250] [--rounds 3] [--without-moto]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "target" / "release" / "firehose-local"
TEMPLATE = REPO / "tests" / "fixtures" / "run" / "normalize.yaml"
RECORDS = Path(__file__).resolve().parent / "access.tmpl"
START = "2026-12-01T10:00:00Z"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_when_exited(process):
    """Waits for the process to exit without reaping it, then its own and its reaped children's CPU seconds."""
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" that ends the command name, field 14 (utime) is the 12th.
    utime, stime, cutime, cstime = (int(f) / TICKS for f in fields[11:15])
    code = process.wait()
    return utime + stime, cutime + cstime, code


def cpu_of_running(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_args(producer, count):
    return [str(LOCAL), "generate", str(RECORDS), "--count", str(count), "--seed", str(producer + 1),
            "--start-time", START]


def write_inputs(work, producers, count):
    """Each producer's records as a file, and their bytes without the newlines."""
    files, size = [], 0
    for producer in range(producers):
        path = work / f"records-{producer}.txt"
        with open(path, "wb") as out:
            subprocess.run(generate_args(producer, count), stdout=out, stderr=subprocess.DEVNULL, check=True)
        size += path.stat().st_size - count
        files.append(path)
    return files, size


def send(endpoint, producers, count):
    """Starts the producers at once and waits for them all; their CPU seconds, summed."""
    started = [
        subprocess.Popen(generate_args(producer, count) + ["--to-firehose", "normalized", "--endpoint-url",
                                                            endpoint, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for producer in range(producers)
    ]
    cpu = 0.0
    for process in started:
        own, _, code = cpu_when_exited(process)
        sent = json.loads(process.stdout.read())
        if code != 0:
            sys.exit(f"a producer exited {code}: {sent}")
        cpu += own
    return cpu


def measure_run(work, files):
    out = work / "run-s3"
    args = [str(LOCAL), "run", "--template", str(TEMPLATE), "--out", str(out), "--json", "--seed", "1"]
    for path in files:
        args += ["--input", str(path)]
    began = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    own, function, code = cpu_when_exited(process)
    wall = time.monotonic() - began
    summary = json.loads(process.stdout.read().decode().strip().splitlines()[-1])
    shutil.rmtree(out)
    if code != 0:
        sys.exit(f"run exited {code}")
    return {"wall": wall, "local": own, "function": function, "producers": 0.0,
            "records": summary["delivered"]}


def measure_serve(work, producers, count, state):
    out = work / "serve-s3"
    args = [str(LOCAL), "serve", "--template", str(TEMPLATE), "--listen", "127.0.0.1:0", "--json",
            "--out", str(out), "--seed", "1"]
    if state:
        args += ["--state", str(work / "state")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=work)
    listening = json.loads(process.stdout.readline())
    began = time.monotonic()
    producer_cpu = send(listening["endpoint"], producers, count)
    process.send_signal(signal.SIGTERM)
    own, function, code = cpu_when_exited(process)
    wall = time.monotonic() - began
    events = [json.loads(line) for line in process.stdout.read().decode().splitlines()]
    summary = next(e for e in events if e.get("event") == "summary")
    shutil.rmtree(out)
    shutil.rmtree(work / "state", ignore_errors=True)
    if code != 0:
        sys.exit(f"serve exited {code}: {summary}")
    return {"wall": wall, "local": own, "function": function, "producers": producer_cpu,
            "records": summary["delivered"]}


def measure_moto(producers, count):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        clients = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "local",
                   "aws_secret_access_key": "local"}
        for _ in range(100):
            try:
                boto3.client("s3", **clients).create_bucket(Bucket="normalized")
                break
            except Exception:  # not listening yet
                time.sleep(0.1)
        boto3.client("firehose", **clients).create_delivery_stream(
            DeliveryStreamName="normalized", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::normalized",
                "Prefix": "normalized/"})
        before = cpu_of_running(process.pid)
        began = time.monotonic()
        producer_cpu = send(endpoint, producers, count)
        wall = time.monotonic() - began
        own = cpu_of_running(process.pid) - before
        s3 = boto3.client("s3", **clients)
        objects = sum(page.get("KeyCount", 0)
                      for page in s3.get_paginator("list_objects_v2").paginate(Bucket="normalized"))
    finally:
        process.kill()
        process.wait()
    return {"wall": wall, "local": own, "function": 0.0, "producers": producer_cpu, "records": None,
            "objects": objects}


def row(name, rounds, size):
    gigabytes = size / 1e9

    def spread(key, scale):
        values = sorted(scale(measured[key]) for measured in rounds)
        median = statistics.median(values)
        return f"{median:.1f}" if len(values) == 1 else f"{median:.1f} ({values[0]:.1f}–{values[-1]:.1f})"

    per_gb = lambda seconds: seconds / gigabytes
    return (f"| {name} | {spread('wall', lambda s: s)} s | {spread('wall', lambda s: size / 1e6 / s)} MB/s | "
            f"{spread('local', per_gb)} | {spread('function', per_gb)} | {spread('producers', per_gb)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--megabytes", type=float, default=250, help="of records per producer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--without-moto", action="store_true")
    options = parser.parse_args()
    count = int(options.megabytes * 1e6 / 317)
    work = Path(tempfile.mkdtemp(prefix="serve-throughput-"))
    try:
        files, size = write_inputs(work, options.producers, count)
        total = options.producers * count
        print(f"{options.producers} producers × {count:,} records, {size / 1e6:.0f} MB of records", flush=True)
        measures = {
            "`run`, the same records from files": lambda: measure_run(work, files),
            "`serve`": lambda: measure_serve(work, options.producers, count, state=False),
            "`serve --state`": lambda: measure_serve(work, options.producers, count, state=True),
        }
        if not options.without_moto:
            measures["moto's server, Direct PUT to its S3, no Lambda"] = lambda: measure_moto(
                options.producers, count)
        results = {name: [] for name in measures}
        # Round by round, so that a slow spell of the machine touches every row alike.
        for _ in range(options.rounds):
            for name, measure in measures.items():
                measured = measure()
                if measured["records"] not in (None, total):
                    sys.exit(f"{name}: {measured['records']} records delivered of {total}")
                results[name].append(measured)
        print("| | wall | records | firehose-local (moto) CPU-s/GB | function CPU-s/GB | producers CPU-s/GB |")
        print("|---|---|---|---|---|---|")
        for name, rounds in results.items():
            print(row(name, rounds, size))
        for measured in results.get("moto's server, Direct PUT to its S3, no Lambda", [])[:1]:
            print(f"moto wrote {measured['objects']:,} objects a round")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
