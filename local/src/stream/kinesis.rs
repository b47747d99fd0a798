//! A real Kinesis data stream as the producer (`--from-kinesis`): every record
//! the stream holds now, read shard by shard from the oldest (`TRIM_HORIZON`)
//! with the AWS SDK, page by page as the run needs them, with each record's
//! own shard, partition key, sequence number and arrival time.

use std::collections::VecDeque;

use aws_config::BehaviorVersion;
use aws_sdk_kinesis::types::ShardIteratorType;

use super::producer::{Attempt, Entry, InputError, KinesisOrigin, MAX_RECORD_BYTES, Put};
use crate::causes::with_causes;

/// Reads one stream.
pub struct KinesisReader {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_kinesis::Client,
    stream: String,
    shards: VecDeque<String>,
    /// The shard being read and where its next page starts.
    reading: Option<(String, String)>,
    page: VecDeque<Attempt>,
}

impl KinesisReader {
    /// Lists the shards of `stream`; `endpoint` (e.g. moto on loopback) replaces the AWS one.
    pub fn open(stream: &str, endpoint: Option<&str>) -> Result<KinesisReader, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the Kinesis client's runtime: {e}"))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let config = runtime.block_on(loader.load());
        if config.region().is_none() {
            return Err("--from-kinesis: no AWS region; set AWS_REGION".to_owned());
        }
        let client = aws_sdk_kinesis::Client::new(&config);
        let mut shards = VecDeque::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(token) => client.list_shards().next_token(token),
                None => client.list_shards().stream_name(stream),
            };
            let listed = runtime.block_on(request.send()).map_err(|e| {
                format!(
                    "--from-kinesis {stream}: cannot list its shards: {}",
                    with_causes(&e)
                )
            })?;
            shards.extend(listed.shards().iter().map(|s| s.shard_id().to_owned()));
            token = listed.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(KinesisReader {
            runtime,
            client,
            stream: stream.to_owned(),
            shards,
            reading: None,
            page: VecDeque::new(),
        })
    }

    /// Fetches the next page; `false` when every shard is read to its end.
    fn fetch(&mut self) -> Result<bool, String> {
        loop {
            let (shard, iterator) = match self.reading.take() {
                Some(reading) => reading,
                None => {
                    let Some(shard) = self.shards.pop_front() else {
                        return Ok(false);
                    };
                    let request = self
                        .client
                        .get_shard_iterator()
                        .stream_name(&self.stream)
                        .shard_id(&shard)
                        .shard_iterator_type(ShardIteratorType::TrimHorizon);
                    let answer = self.runtime.block_on(request.send()).map_err(|e| {
                        format!("{shard}: cannot start reading: {}", with_causes(&e))
                    })?;
                    match answer.shard_iterator() {
                        Some(iterator) => (shard, iterator.to_owned()),
                        None => continue,
                    }
                }
            };
            let request = self
                .client
                .get_records()
                .shard_iterator(&iterator)
                .limit(10_000);
            let page = self
                .runtime
                .block_on(request.send())
                .map_err(|e| format!("{shard}: cannot read records: {}", with_causes(&e)))?;
            let number = shard
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            for record in page.records() {
                let data = record.data().as_ref().to_vec();
                if data.len() > MAX_RECORD_BYTES {
                    self.page.push_back(Attempt::Refused(format!(
                        "{shard} {}: {} bytes, over Firehose's {MAX_RECORD_BYTES}",
                        record.sequence_number(),
                        data.len()
                    )));
                    continue;
                }
                self.page.push_back(Attempt::Put(Put {
                    data,
                    partition_key: record.partition_key().map(str::to_owned),
                    arrival_ms: record
                        .approximate_arrival_timestamp()
                        .and_then(|t| t.to_millis().ok()),
                    kinesis: Some(KinesisOrigin {
                        shard: number,
                        sequence_number: record.sequence_number().to_owned(),
                    }),
                    entry: Entry::Source,
                }));
            }
            // The shard is read to its end when it is caught up and gives nothing more, or is closed.
            let caught_up =
                page.records().is_empty() && page.millis_behind_latest().unwrap_or(0) == 0;
            if let (Some(next), false) = (page.next_shard_iterator(), caught_up) {
                self.reading = Some((shard, next.to_owned()));
            }
            if !self.page.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl Iterator for KinesisReader {
    type Item = Result<Attempt, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() {
            match self.fetch() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(message) => {
                    // One error ends the reading: the records before it are in the run.
                    self.shards.clear();
                    self.reading = None;
                    return Some(Err(InputError::Kinesis(message)));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}
