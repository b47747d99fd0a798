//! The AWS SDK client of `generate --to-firehose` / `--to-kinesis`: records
//! sent with `PutRecordBatch` or `PutRecords`, to `serve` (`--endpoint-url`)
//! or to AWS with the environment's credentials. Only the entries a call's
//! `FailedPutCount` names are put again; whole calls are retried by the SDK.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_firehose::config::{Credentials, Region};
use aws_sdk_firehose::error::ProvideErrorMetadata;
use aws_sdk_firehose::primitives::Blob as FirehoseBlob;
use aws_sdk_kinesis::primitives::Blob as KinesisBlob;

use super::send::{Outgoing, Tally, Target};
use crate::causes::with_causes;

enum Client {
    Firehose(aws_sdk_firehose::Client),
    Kinesis(aws_sdk_kinesis::Client),
}

/// A client for one stream, with its own runtime.
pub struct Sender {
    runtime: tokio::runtime::Runtime,
    client: Client,
    target: Target,
    max_attempts: u32,
    pub tally: Tally,
}

impl Sender {
    /// A client for `target`, at `endpoint` (`serve`) or AWS's own; each
    /// record is tried at most `max_attempts` times. At an endpoint, missing
    /// credentials and region are made up: `serve` checks neither.
    pub fn open(
        target: Target,
        endpoint: Option<&str>,
        max_attempts: u32,
    ) -> Result<Sender, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the AWS client's runtime: {e}"))?;
        let retry = RetryConfig::standard().with_max_attempts(max_attempts);
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
            // serve checks no signature: without credentials of the user's own, placeholders sign.
            let named = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE"];
            if named.iter().all(|name| std::env::var_os(name).is_none()) {
                loader = loader.credentials_provider(Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "firehose-local",
                ));
            }
        }
        let mut config = runtime.block_on(loader.load());
        if config.region().is_none() {
            if endpoint.is_none() {
                return Err(
                    "no AWS region to send to: set AWS_REGION (or give --endpoint-url)".to_owned(),
                );
            }
            config = config
                .into_builder()
                .region(Region::new("us-east-1"))
                .build();
        }
        let client = match &target {
            Target::Firehose(_) => Client::Firehose(aws_sdk_firehose::Client::new(&config)),
            Target::Kinesis(_) => Client::Kinesis(aws_sdk_kinesis::Client::new(&config)),
        };
        Ok(Sender {
            runtime,
            client,
            target,
            max_attempts,
            tally: Tally::default(),
        })
    }

    /// Sends `records` in one call, putting again those it names as failed,
    /// after a pause that doubles each time; those still failing after the
    /// last attempt are counted refused. A call that fails whole (after the
    /// SDK's own retries) is an error.
    pub fn send(&mut self, mut records: Vec<Outgoing>) -> Result<(), String> {
        self.tally.records += records.len() as u64;
        self.tally.bytes += records.iter().map(|r| r.data.len() as u64).sum::<u64>();
        let mut pause = Duration::from_millis(100);
        for attempt in 1..=self.max_attempts {
            let failed = self.call(&records)?;
            let failures = failed.iter().filter(|code| code.is_some()).count();
            self.tally.accepted += (records.len() - failures) as u64;
            if failures == 0 {
                return Ok(());
            }
            let last = attempt == self.max_attempts;
            let mut again = Vec::with_capacity(failures);
            for (record, code) in records.into_iter().zip(failed) {
                match code {
                    Some(code) if last => {
                        self.tally.refused += 1;
                        *self.tally.refusals.entry(code).or_default() += 1;
                    }
                    Some(_) => again.push(record),
                    None => {}
                }
            }
            if last {
                break;
            }
            self.tally.put_again += again.len() as u64;
            records = again;
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
        Ok(())
    }

    /// One call: each record's error code, in order (None when it was taken).
    fn call(&self, records: &[Outgoing]) -> Result<Vec<Option<String>>, String> {
        let stream = self.target.stream();
        let failed = |operation: &str, code: Option<&str>, error: String| {
            let code = code.map(|c| format!("{c}: ")).unwrap_or_default();
            format!("{operation} to {stream} failed: {code}{error}")
        };
        match &self.client {
            Client::Firehose(client) => {
                let entries = records
                    .iter()
                    .map(|r| {
                        aws_sdk_firehose::types::Record::builder()
                            .data(FirehoseBlob::new(r.data.clone()))
                            .build()
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let call = client
                    .put_record_batch()
                    .delivery_stream_name(stream)
                    .set_records(Some(entries))
                    .send();
                let answer = self
                    .runtime
                    .block_on(call)
                    .map_err(|e| failed("PutRecordBatch", e.code(), with_causes(&e)))?;
                Ok(answer
                    .request_responses()
                    .iter()
                    .map(|r| r.error_code().map(str::to_owned))
                    .collect())
            }
            Client::Kinesis(client) => {
                let entries = records
                    .iter()
                    .map(|r| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(KinesisBlob::new(r.data.clone()))
                            .partition_key(&r.partition_key)
                            .build()
                            .map_err(|e| e.to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let call = client
                    .put_records()
                    .stream_name(stream)
                    .set_records(Some(entries))
                    .send();
                let answer = self
                    .runtime
                    .block_on(call)
                    .map_err(|e| failed("PutRecords", e.code(), with_causes(&e)))?;
                Ok(answer
                    .records()
                    .iter()
                    .map(|r| r.error_code().map(str::to_owned))
                    .collect())
            }
        }
    }
}
