//! Putting records back to a Kinesis data stream (`PutRecords`) or a Firehose
//! delivery stream (`PutRecordBatch`) with the AWS SDK: in calls of at most
//! 500 records and 4 MiB, retrying only the entries that failed, with
//! exponential backoff and a bound on attempts and on time (the invocation's
//! cutoff). The SDK's own retries are off: they would stack on these.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::http::HttpRequest;
use aws_sdk_kinesis::error::DisplayErrorContext;
use aws_sdk_kinesis::primitives::Blob;
use firehose_transform::pipeline::Context;

/// The most records one call takes (both APIs).
const MAX_RECORDS_PER_CALL: usize = 500;
/// The most bytes one call takes: Firehose's limit, under Kinesis's 5 MiB.
const MAX_BYTES_PER_CALL: usize = 4 << 20;
/// Attempts per entry, the first included.
const MAX_ATTEMPTS: u32 = 5;
/// The wait before the second attempt; it doubles for each one after.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Where records go back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Kinesis data stream, by name.
    Kinesis(String),
    /// A Firehose delivery stream, by name.
    Firehose(String),
}

impl Target {
    /// The stream named by an ARN's resource part: `…:stream/NAME` or `…:deliverystream/NAME`.
    pub fn from_arn(arn: &str) -> Option<Target> {
        let resource = arn.rsplit(':').next()?;
        if let Some(name) = resource.strip_prefix("stream/") {
            return Some(Target::Kinesis(name.to_owned()));
        }
        resource
            .strip_prefix("deliverystream/")
            .map(|name| Target::Firehose(name.to_owned()))
    }
}

/// One record to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub data: Vec<u8>,
    /// Kinesis only: the shard key. The original record's keeps ordering per key.
    pub partition_key: String,
}

/// A client for both APIs, with the runtime its calls block on.
pub struct AwsPut {
    runtime: tokio::runtime::Runtime,
    kinesis: aws_sdk_kinesis::Client,
    firehose: aws_sdk_firehose::Client,
}

impl AwsPut {
    /// Configured as the Lambda environment says: region, credentials, and
    /// `AWS_ENDPOINT_URL` when set (the tests point it at a local server).
    pub fn from_env() -> Result<AwsPut, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the AWS client's runtime: {e}"))?;
        let loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
        let config = runtime.block_on(loader.load());
        if config.region().is_none() {
            return Err("no AWS region: set AWS_REGION".to_owned());
        }
        Ok(AwsPut {
            kinesis: aws_sdk_kinesis::Client::new(&config),
            firehose: aws_sdk_firehose::Client::new(&config),
            runtime,
        })
    }

    /// Puts every entry; for each, in order, whether it is in the stream.
    pub fn put(
        &self,
        target: &Target,
        entries: &[Entry],
        context: &Context,
    ) -> Vec<Result<(), String>> {
        let mut results = Vec::with_capacity(entries.len());
        for chunk in chunks(entries) {
            results.extend(self.put_with_retries(target, chunk, context));
        }
        results
    }

    fn put_with_retries(
        &self,
        target: &Target,
        chunk: &[Entry],
        context: &Context,
    ) -> Vec<Result<(), String>> {
        let mut results: Vec<Result<(), String>> =
            vec![Err("not attempted: the deadline came first".to_owned()); chunk.len()];
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let Some(left) = time_left(context.cutoff, Duration::ZERO) else {
                break;
            };
            let batch: Vec<&Entry> = pending.iter().map(|&i| &chunk[i]).collect();
            match self.call(target, &batch, left, context.trace_id.as_deref()) {
                Ok(errors) => {
                    for (&i, error) in pending.iter().zip(errors) {
                        results[i] = error
                            .map_or(Ok(()), |e| Err(format!("{e} (after {attempt} attempts)")));
                    }
                }
                Err(e) => {
                    for &i in &pending {
                        results[i] = Err(format!("{e} (after {attempt} attempts)"));
                    }
                }
            }
            pending.retain(|&i| results[i].is_err());
            // No retry that could not be done before the cutoff.
            if pending.is_empty()
                || attempt == MAX_ATTEMPTS
                || time_left(context.cutoff, backoff).is_none()
            {
                break;
            }
            std::thread::sleep(backoff);
            backoff *= 2;
        }
        results
    }

    /// One call of at most `left`, carrying the invocation's trace header; for
    /// each entry, its error, if it failed.
    fn call(
        &self,
        target: &Target,
        batch: &[&Entry],
        left: Option<Duration>,
        trace_id: Option<&str>,
    ) -> Result<Vec<Option<String>>, String> {
        let mut timeouts = TimeoutConfig::builder();
        timeouts.set_operation_timeout(left);
        let timeouts = timeouts.build();
        let trace_id = trace_id.map(str::to_owned);
        let with_trace = move |request: &mut HttpRequest| {
            if let Some(trace_id) = &trace_id {
                request
                    .headers_mut()
                    .insert("x-amzn-trace-id", trace_id.clone());
            }
        };
        self.runtime.block_on(async {
            match target {
                Target::Kinesis(stream) => {
                    let records = batch.iter().map(|e| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(Blob::new(e.data.clone()))
                            .partition_key(e.partition_key.clone())
                            .build()
                            .map_err(|e| e.to_string())
                    });
                    let output = self
                        .kinesis
                        .put_records()
                        .stream_name(stream)
                        .set_records(Some(records.collect::<Result<_, _>>()?))
                        .customize()
                        .config_override(
                            aws_sdk_kinesis::config::Builder::default()
                                .timeout_config(timeouts.clone()),
                        )
                        .mutate_request(with_trace.clone())
                        .send()
                        .await
                        .map_err(|e| {
                            format!("Kinesis PutRecords failed: {}", DisplayErrorContext(&e))
                        })?;
                    Ok(output
                        .records()
                        .iter()
                        .map(|r| {
                            r.error_code()
                                .map(|code| entry_error(code, r.error_message()))
                        })
                        .collect())
                }
                Target::Firehose(stream) => {
                    let records = batch.iter().map(|e| {
                        aws_sdk_firehose::types::Record::builder()
                            .data(aws_sdk_firehose::primitives::Blob::new(e.data.clone()))
                            .build()
                            .map_err(|e| e.to_string())
                    });
                    let output = self
                        .firehose
                        .put_record_batch()
                        .delivery_stream_name(stream)
                        .set_records(Some(records.collect::<Result<_, _>>()?))
                        .customize()
                        .config_override(
                            aws_sdk_firehose::config::Builder::default().timeout_config(timeouts),
                        )
                        .mutate_request(with_trace)
                        .send()
                        .await
                        .map_err(|e| {
                            format!(
                                "Firehose PutRecordBatch failed: {}",
                                aws_sdk_firehose::error::DisplayErrorContext(&e)
                            )
                        })?;
                    Ok(output
                        .request_responses()
                        .iter()
                        .map(|r| {
                            r.error_code()
                                .map(|code| entry_error(code, r.error_message()))
                        })
                        .collect())
                }
            }
        })
    }
}

/// Time left before `cutoff` once `after` has passed; `None` when none is,
/// `Some(None)` when there is no cutoff.
fn time_left(cutoff: Option<Instant>, after: Duration) -> Option<Option<Duration>> {
    match cutoff {
        None => Some(None),
        Some(cutoff) => cutoff
            .checked_duration_since(Instant::now() + after)
            .filter(|left| !left.is_zero())
            .map(Some),
    }
}

fn entry_error(code: &str, message: Option<&str>) -> String {
    format!("put back failed: {code}: {}", message.unwrap_or(""))
}

/// Consecutive runs of entries within the per-call limits.
fn chunks(entries: &[Entry]) -> Vec<&[Entry]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let size = entry.data.len() + entry.partition_key.len();
        if i > start && (i - start == MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL) {
            chunks.push(&entries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < entries.len() {
        chunks.push(&entries[start..]);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(sizes: &[usize]) -> Vec<Entry> {
        sizes
            .iter()
            .map(|&n| Entry {
                data: vec![0; n],
                partition_key: String::new(),
            })
            .collect()
    }

    #[test]
    fn calls_hold_at_most_500_records_and_4_mib() {
        let many = entries(&[1; 1201]);
        let lens: Vec<usize> = chunks(&many).iter().map(|c| c.len()).collect();
        assert_eq!(lens, [500, 500, 201]);
        let big = entries(&[1 << 20, 1 << 20, 1 << 20, 1 << 20, 1]);
        let lens: Vec<usize> = chunks(&big).iter().map(|c| c.len()).collect();
        assert_eq!(lens, [4, 1]);
        let bigger = entries(&[3 << 20, 3 << 20]);
        assert_eq!(chunks(&bigger).len(), 2);
        assert!(chunks(&[]).is_empty());
    }

    #[test]
    fn targets_come_from_arns() {
        assert_eq!(
            Target::from_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/class-stream"),
            Some(Target::Kinesis("class-stream".to_owned()))
        );
        assert_eq!(
            Target::from_arn("arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs"),
            Some(Target::Firehose("logs".to_owned()))
        );
        assert_eq!(Target::from_arn("aws:lambda:events"), None);
    }
}
