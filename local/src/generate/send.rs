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

    /// The most one record may hold: 1,000 KiB for Firehose, 1 MiB of data and key for Kinesis.
    pub fn max_record_bytes(&self) -> usize {
        match self {
            Target::Firehose(_) => 1_024_000,
            Target::Kinesis(_) => 1 << 20,
        }
    }

    /// The bytes of `record` the API's limits count: its data, and for Kinesis its key too.
    pub fn counted_bytes(&self, record: &Outgoing) -> usize {
        match self {
            Target::Firehose(_) => record.data.len(),
            Target::Kinesis(_) => record.data.len() + record.partition_key.len(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_counts_the_partition_key_against_its_limits_and_firehose_does_not() {
        let record = Outgoing {
            data: vec![b'x'; 1 << 20],
            partition_key: "k".to_owned(),
        };
        let firehose = Target::Firehose("s".to_owned());
        let kinesis = Target::Kinesis("s".to_owned());
        assert_eq!(firehose.counted_bytes(&record), 1 << 20);
        assert!(firehose.counted_bytes(&record) > firehose.max_record_bytes());
        assert_eq!(kinesis.counted_bytes(&record), (1 << 20) + 1);
        assert!(kinesis.counted_bytes(&record) > kinesis.max_record_bytes());
        assert!(firehose.max_call_bytes() < kinesis.max_call_bytes());
    }
}
