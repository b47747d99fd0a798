//! Where each record goes once the function (or the processors) are done
//! with it: its partition's S3 buffer, through the partition keys and record
//! format conversion; or an error object, by the failure's error type; and
//! the source backup. The buffers are [`Objects`]; this decides which one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::event::Record;
use super::invoke::Fate;
use super::ledger::Ledger;
use super::partition;
use super::worker::Settled;
use crate::sink::error_record::{self, Failure, codes};
use crate::sink::objects::{Item, Objects, Target};
use crate::sink::prefix::PartitionKeys;
use crate::sink::store::StoreError;
use crate::template::{DeliveryStream, Partitioning};

/// Active partitions a stream may have unless AWS raises its limit (to at most 5,000).
pub const ACTIVE_PARTITIONS: usize = 500;

/// The stream's routes to its S3 buffers.
pub struct Router<'s> {
    stream: &'s DeliveryStream,
    objects: Objects,
    /// Active partitions: a record for a new partition past them goes to `activePartitionExceeded`.
    max_partitions: usize,
}

impl<'s> Router<'s> {
    pub fn new(stream: &'s DeliveryStream, objects: Objects, max_partitions: usize) -> Self {
        Router {
            stream,
            objects,
            max_partitions,
        }
    }

    /// A record as it arrived, at `now_ms`, to the source backup.
    pub fn backup(
        &mut self,
        record: &Record,
        now_ms: i64,
        ledger: &mut Ledger<'_>,
    ) -> Result<(), StoreError> {
        let item = Item {
            target: Target::Backup,
            keys: &PartitionKeys::new(),
            bytes: &record.data,
            arrival_ms: record.arrival_ms,
            index: record.index,
            trace: None,
        };
        ledger.written(self.objects.add(now_ms, item)?);
        Ok(())
    }

    /// Each record of a batch the function is done with, where its fate sends it.
    pub fn settled(
        &mut self,
        settled: Settled,
        lambda_arn: &str,
        ledger: &mut Ledger<'_>,
    ) -> Result<(), StoreError> {
        let Settled {
            records,
            verdict,
            at_ms,
        } = settled;
        for (record, fate) in records.iter().zip(verdict.fates) {
            let told = verdict.told.get(&record.record_id);
            match fate {
                Fate::Ok {
                    data,
                    partition_keys,
                } => self.deliver(record, &data, &partition_keys, at_ms, ledger)?,
                Fate::Dropped => {
                    ledger.summary.dropped += 1;
                    let by = told.map_or("dropped by the function", String::as_str);
                    ledger.tell(format!("#{} {}: {by}", record.index, record.record_id));
                }
                Fate::Failed { code, message } => {
                    if let Some(why) = told {
                        ledger.tell(format!("#{} {}: {why}", record.index, record.record_id));
                    }
                    let failure = Failure {
                        raw: record.raw(),
                        code,
                        message,
                        attempts: verdict.attempts,
                        arrival_ms: record.arrival_ms,
                        ended_ms: at_ms,
                        lambda_arn: Some(lambda_arn),
                    };
                    self.fail(record, "processing-failed", &failure, ledger)?;
                }
            }
        }
        Ok(())
    }

    /// An error object line for `record`, under `error_type`, at `failure.ended_ms`.
    pub fn fail(
        &mut self,
        record: &Record,
        error_type: &'static str,
        failure: &Failure<'_>,
        ledger: &mut Ledger<'_>,
    ) -> Result<(), StoreError> {
        let line = error_record::line(failure);
        self.fail_with(record, error_type, failure, &line, ledger)
    }

    /// `record` to the error object of `error_type`, as `line`.
    fn fail_with(
        &mut self,
        record: &Record,
        error_type: &'static str,
        failure: &Failure<'_>,
        line: &[u8],
        ledger: &mut Ledger<'_>,
    ) -> Result<(), StoreError> {
        *ledger
            .summary
            .errors
            .entry(failure.code.to_owned())
            .or_default() += 1;
        let item = Item {
            target: Target::Error(error_type),
            keys: &PartitionKeys::new(),
            bytes: line,
            arrival_ms: record.arrival_ms,
            index: record.index,
            trace: ledger
                .tracing()
                .then_some((record.record_id.as_str(), Some(failure.code))),
        };
        ledger.written(self.objects.add(failure.ended_ms, item)?);
        Ok(())
    }

    /// A record's `data` at `at_ms` to its S3 buffer: its partition's, with
    /// dynamic partitioning; converted, with record format conversion.
    pub fn deliver(
        &mut self,
        record: &Record,
        data: &[u8],
        lambda_keys: &BTreeMap<String, String>,
        at_ms: i64,
        ledger: &mut Ledger<'_>,
    ) -> Result<(), StoreError> {
        let keys = match &self.stream.partitioning {
            Some(partitioning) => {
                match self.partition_keys(partitioning, record, data, lambda_keys) {
                    Ok(keys) => keys,
                    Err(message) => {
                        let failure = Failure {
                            raw: record.raw(),
                            code: codes::PARTITIONING_FAILED,
                            message: &message,
                            attempts: 1,
                            arrival_ms: record.arrival_ms,
                            ended_ms: at_ms,
                            lambda_arn: None,
                        };
                        return self.fail(record, "partitioning-failed", &failure, ledger);
                    }
                }
            }
            None => PartitionKeys::new(),
        };
        if self.stream.partitioning.is_some()
            && self.objects.active_partitions() >= self.max_partitions
            && !self.objects.is_active(&keys)
        {
            let message = format!(
                "The delivery stream has {} active partitions, its limit; records for another partition \
                 go to the error prefix until one is delivered.",
                self.max_partitions
            );
            let failure = Failure {
                raw: record.raw(),
                code: codes::ACTIVE_PARTITIONS_EXCEEDED,
                message: &message,
                attempts: 1,
                arrival_ms: record.arrival_ms,
                ended_ms: at_ms,
                lambda_arn: None,
            };
            return self.fail(record, "activePartitionExceeded", &failure, ledger);
        }
        let bytes = match self.objects.conversion().map(|c| (c.rows(data), c)) {
            None => Cow::Borrowed(data),
            Some((Ok(rows), _)) => {
                rows.dropped
                    .into_iter()
                    .for_each(|key| ledger.summary.key_dropped(key));
                Cow::Owned(rows.lines)
            }
            Some((Err(refused), conversion)) => {
                // What the converter read is what its error object keeps.
                let failure = Failure {
                    raw: data,
                    code: refused.code,
                    message: &refused.message,
                    attempts: 1,
                    arrival_ms: record.arrival_ms,
                    ended_ms: at_ms,
                    lambda_arn: None,
                };
                let kinesis = record
                    .kinesis
                    .as_ref()
                    .map(|_| (record.sequence_number.as_str(), record.subsequence));
                let line = error_record::conversion_line(&failure, &conversion.table, kinesis);
                return self.fail_with(record, "format-conversion-failed", &failure, &line, ledger);
            }
        };
        let item = Item {
            target: Target::Data,
            keys: &keys,
            bytes: &bytes,
            arrival_ms: record.arrival_ms,
            index: record.index,
            trace: ledger
                .tracing()
                .then_some((record.record_id.as_str(), None)),
        };
        ledger.written(self.objects.add(at_ms, item)?);
        Ok(())
    }

    fn partition_keys(
        &self,
        partitioning: &Partitioning,
        record: &Record,
        data: &[u8],
        lambda_keys: &BTreeMap<String, String>,
    ) -> Result<PartitionKeys, String> {
        let from_query = match &partitioning.query {
            Some(query) => query.keys(data)?,
            None => BTreeMap::new(),
        };
        let destination = &self.stream.destination;
        let at = jiff::Timestamp::from_millisecond(record.arrival_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(destination.time_zone.clone());
        partition::partition_keys(&destination.prefix, &from_query, lambda_keys, &at)
    }

    /// The lowest input index of any record waiting in an S3 buffer.
    pub fn oldest_index(&self) -> Option<u64> {
        self.objects.oldest_index()
    }

    /// When the next S3 buffer is due by its interval.
    pub fn next_deadline(&self) -> Option<i64> {
        self.objects.next_deadline()
    }

    /// Writes every S3 buffer now, due or not.
    pub fn flush_all(&mut self, ledger: &mut Ledger<'_>) -> Result<(), StoreError> {
        ledger.written(self.objects.flush_due(i64::MAX)?);
        Ok(())
    }

    /// Writes every S3 buffer due at `now_ms`.
    pub fn flush_due(&mut self, now_ms: i64, ledger: &mut Ledger<'_>) -> Result<(), StoreError> {
        ledger.written(self.objects.flush_due(now_ms)?);
        Ok(())
    }
}
