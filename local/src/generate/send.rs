//! `generate --to-firehose` / `--to-kinesis`: what is sent where, in calls
//! within the API's limits, and what came of it. The client is
//! [`super::sender`], built with the `producer` feature.

use std::collections::BTreeMap;

/// Where records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Firehose(String),
    Kinesis(String),
}

impl Target {
    /// The most records a call takes.
    pub const MAX_RECORDS: usize = 500;

    /// The most bytes a call takes: 4 MiB of data for Firehose, 5 MiB of data and keys for Kinesis.
    pub fn max_call_bytes(&self) -> usize {
        match self {
            Target::Firehose(_) => 4 << 20,
            Target::Kinesis(_) => 5 << 20,
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        match self {
            Target::Firehose(name) | Target::Kinesis(name) => name,
        }
    }
}

/// One record to send: its data, and for Kinesis its partition key.
pub struct Outgoing {
    pub data: Vec<u8>,
    pub partition_key: String,
}

/// What was sent, so far.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub records: u64,
    pub bytes: u64,
    pub accepted: u64,
    pub refused: u64,
    /// Refused records by their error code.
    pub refusals: BTreeMap<String, u64>,
    /// Records put again because a call's `FailedPutCount` named them.
    pub put_again: u64,
}
