// A producer as our users write one in JavaScript: the AWS SDK for JavaScript v3
// pointed at `firehose-local serve`. The Kinesis client speaks HTTP/2 by default,
// over http:// with prior knowledge (h2c); the Firehose client HTTP/1.1. It puts
// numbered JSON records, makes a call AWS refuses, and prints, as one JSON object,
// where each record went and the refusal's name and status.
//
// Usage: node producer.mjs ENDPOINT firehose|kinesis STREAM

import {
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
} from "@aws-sdk/client-firehose";
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";

const [endpoint, service, stream] = process.argv.slice(2);
const config = {
  endpoint,
  region: "eu-west-2",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
};
const data = (n) => new TextEncoder().encode(JSON.stringify({ n }));
const report = { sent: [] };

async function refusal(call) {
  try {
    await call();
    return null;
  } catch (e) {
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

if (service === "firehose") {
  const firehose = new FirehoseClient(config);
  const description = await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }));
  report.arn = description.DeliveryStreamDescription.DeliveryStreamARN;
  for (let batch = 0; batch < 2; batch++) {
    const numbers = Array.from({ length: 100 }, (_, i) => batch * 100 + i);
    const answer = await firehose.send(
      new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: numbers.map((n) => ({ Data: data(n) })) }),
    );
    if (answer.FailedPutCount !== 0) throw new Error(JSON.stringify(answer));
    report.sent.push(...numbers.map((n) => ({ n })));
  }
  await firehose.send(new PutRecordCommand({ DeliveryStreamName: stream, Record: { Data: data(200) } }));
  report.sent.push({ n: 200 });
  report.refused = await refusal(() =>
    firehose.send(new PutRecordCommand({ DeliveryStreamName: "nope", Record: { Data: data(0) } })),
  );
  firehose.destroy();
} else {
  const kinesis = new KinesisClient(config);
  const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  report.created = summary.StreamDescriptionSummary.StreamCreationTimestamp.toISOString();
  const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
  report.shards = shards.Shards.map((s) => s.ShardId);
  for (let batch = 0; batch < 2; batch++) {
    const records = Array.from({ length: 100 }, (_, i) => ({ n: batch * 100 + i, key: `js-${batch * 100 + i}` }));
    const answer = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: records.map((r) => ({ Data: data(r.n), PartitionKey: r.key })),
      }),
    );
    if (answer.FailedRecordCount !== 0) throw new Error(JSON.stringify(answer));
    records.forEach((r, i) =>
      report.sent.push({ ...r, shard: answer.Records[i].ShardId, sequence: answer.Records[i].SequenceNumber }),
    );
  }
  report.refused = await refusal(() =>
    kinesis.send(new PutRecordsCommand({ StreamName: "nope", Records: [{ Data: data(0), PartitionKey: "k" }] })),
  );
  kinesis.destroy();
}
console.log(JSON.stringify(report));
