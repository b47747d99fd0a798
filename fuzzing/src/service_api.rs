//! `serve`'s Firehose and Kinesis APIs: request bodies as SDKs send them
//! (JSON, and CBOR for Kinesis), each operation's, answered by a service with
//! one Kinesis data stream and no delivery stream (Firehose validates a
//! request before it looks for the stream). Any body gets an answer or an
//! API error, never a panic, and the answer is written out.

use std::sync::OnceLock;

use firehose_local::service::protocol::{self, Protocol};
use firehose_local::service::{Service, firehose_api, kinesis_api};
use firehose_local::template::DataStream;

const FIREHOSE_OPERATIONS: [&str; 4] = [
    "PutRecord",
    "PutRecordBatch",
    "DescribeDeliveryStream",
    "ListDeliveryStreams",
];
const KINESIS_OPERATIONS: [&str; 6] = [
    "PutRecord",
    "PutRecords",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListShards",
    "ListStreams",
];

/// The first byte chooses the API and protocol, the second the operation; the rest is the body.
pub fn run(data: &[u8]) {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    let service = SERVICE.get_or_init(|| {
        Service::new(
            Vec::new(),
            vec![DataStream {
                name: "fuzz".to_owned(),
                arn: "arn:aws:kinesis:us-east-1:123456789012:stream/fuzz".to_owned(),
                shards: 4,
                on_demand: false,
            }],
        )
    });
    let (api, rest) = crate::choose(data, 3);
    let (operation, body) = crate::choose(rest, 6);
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let (protocol, result) = runtime.block_on(async {
        match api {
            0 => {
                let operation = FIREHOSE_OPERATIONS[operation % FIREHOSE_OPERATIONS.len()];
                let result = firehose_api::call(service, operation, body, "us-east-1").await;
                (Protocol::Json, result)
            }
            _ => {
                let protocol = if api == 1 {
                    Protocol::Json
                } else {
                    Protocol::Cbor
                };
                let operation = KINESIS_OPERATIONS[operation];
                let result =
                    kinesis_api::call(service, protocol, operation, body, "us-east-1").await;
                (protocol, result)
            }
        }
    });
    let _ = protocol::answer(protocol, result, "fuzz-request");
}
