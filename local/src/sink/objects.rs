//! S3 buffers and the objects they become: one buffer per kind of object
//! (data, each error type, source backup) and per partition, cut by the
//! destination's buffering hints on the simulated clock, named exactly as
//! Firehose names objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::Destination;
use super::delivery::{Delivery, Landed};
use super::prefix::PartitionKeys;
use super::store::{Object, StoreError};
use crate::convert::Conversion;

/// What an object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Data,
    /// Records Firehose could not deliver, by `!{firehose:error-output-type}`.
    Error(&'static str),
    /// Source record backup.
    Backup,
}

/// A record's place in an object, for the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The record's place in the input (0-based).
    pub index: u64,
    pub record_id: String,
    /// 1-based line in the object, before compression.
    pub line: u64,
    /// The error code, for error objects.
    pub code: Option<&'static str>,
}

/// An object that was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub target: Target,
    pub bucket: String,
    pub key: String,
    /// Its size as stored (compressed when the destination compresses).
    pub bytes: u64,
    pub records: u64,
    /// Rows, for a Parquet object (a record may hold several JSON objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip)]
    pub placed: Vec<Placed>,
    /// In the store, or where it is instead.
    #[serde(flatten)]
    pub landed: Landed,
}

#[derive(Default)]
struct Buffer {
    data: Vec<u8>,
    records: u64,
    newlines: u64,
    oldest_ms: i64,
    /// The lowest input index among its records.
    oldest_index: u64,
    opened_ms: i64,
    placed: Vec<Placed>,
}

/// One item to add to a buffer.
pub struct Item<'a> {
    pub target: Target,
    pub keys: &'a PartitionKeys,
    pub bytes: &'a [u8],
    pub arrival_ms: i64,
    /// The record's place in the input.
    pub index: u64,
    /// Where it came from, when tracing: record id, error code.
    pub trace: Option<(&'a str, Option<&'static str>)>,
}

/// The S3 side of the stream.
pub struct Objects {
    stream_name: String,
    destination: Destination,
    backup: Option<Destination>,
    delimiter: bool,
    delivery: Delivery,
    rng: fastrand::Rng,
    buffers: BTreeMap<(Target, PartitionKeys), Buffer>,
    /// Record format conversion: data buffers hold rows, written as Parquet
    /// objects with this extension.
    conversion: Option<(Arc<Conversion>, String)>,
    /// Data buffers open: with dynamic partitioning, the active partitions.
    data_buffers: usize,
    /// Bytes held in every buffer together.
    held_bytes: u64,
    /// Past this many bytes held, the largest buffer is written early.
    max_held_bytes: u64,
}

impl Objects {
    pub fn new(
        stream_name: &str,
        destination: Destination,
        backup: Option<Destination>,
        delimiter: bool,
        delivery: Delivery,
        rng: fastrand::Rng,
    ) -> Self {
        Objects {
            stream_name: stream_name.to_owned(),
            destination,
            backup,
            delimiter,
            delivery,
            rng,
            buffers: BTreeMap::new(),
            conversion: None,
            data_buffers: 0,
            held_bytes: 0,
            max_held_bytes: u64::MAX,
        }
    }

    /// Holds at most `bytes` in all buffers together: past it the largest is
    /// written before its hints say, so that memory stays bounded however
    /// many partitions there are.
    pub fn holding_at_most(mut self, bytes: u64) -> Self {
        self.max_held_bytes = bytes;
        self
    }

    /// Data buffers open: with dynamic partitioning, the stream's active partitions.
    pub fn active_partitions(&self) -> usize {
        self.data_buffers
    }

    /// Whether the data buffer of the partition `keys` is open.
    pub fn is_active(&self, keys: &PartitionKeys) -> bool {
        self.buffers.contains_key(&(Target::Data, keys.clone()))
    }

    /// Data objects as Parquet through `conversion`, named with `extension`;
    /// what is added to them is rows, one JSON object a line.
    pub fn converting(mut self, conversion: Arc<Conversion>, extension: String) -> Self {
        self.conversion = Some((conversion, extension));
        self
    }

    /// The stream's record format conversion, if it converts.
    pub fn conversion(&self) -> Option<&Conversion> {
        self.conversion.as_ref().map(|(c, _)| c.as_ref())
    }

    fn destination(&self, target: Target) -> &Destination {
        match (target, &self.backup) {
            (Target::Backup, Some(backup)) => backup,
            _ => &self.destination,
        }
    }

    /// Adds one record at `now_ms`; a buffer that reaches its size is written
    /// at once, and the largest when the buffers hold too much.
    pub fn add(&mut self, now_ms: i64, item: Item<'_>) -> Result<Vec<Written>, StoreError> {
        // Rows are lines already; a delimiter would be an empty row.
        let delimiter = self.delimiter && item.target == Target::Data && self.conversion.is_none();
        let size_bytes = self.destination(item.target).buffering.size_bytes;
        let key = (item.target, item.keys.clone());
        if item.target == Target::Data && !self.buffers.contains_key(&key) {
            self.data_buffers += 1;
        }
        let buffer = self.buffers.entry(key.clone()).or_insert_with(|| Buffer {
            oldest_ms: item.arrival_ms,
            oldest_index: item.index,
            opened_ms: now_ms,
            ..Buffer::default()
        });
        let held_before = buffer.data.len();
        if delimiter && buffer.records > 0 {
            buffer.data.push(b'\n');
            buffer.newlines += 1;
        }
        if let Some((record_id, code)) = item.trace {
            buffer.placed.push(Placed {
                index: item.index,
                record_id: record_id.to_owned(),
                line: buffer.newlines + 1,
                code,
            });
        }
        buffer.data.extend_from_slice(item.bytes);
        buffer.newlines += memchr::memchr_iter(b'\n', item.bytes).count() as u64;
        buffer.records += 1;
        buffer.oldest_ms = buffer.oldest_ms.min(item.arrival_ms);
        buffer.oldest_index = buffer.oldest_index.min(item.index);
        let full = buffer.data.len() as u64 >= size_bytes;
        self.held_bytes += (buffer.data.len() - held_before) as u64;
        let mut written = Vec::new();
        if full {
            written.extend(self.write_out(&key)?);
        }
        if self.held_bytes > self.max_held_bytes {
            let largest = self
                .buffers
                .iter()
                .max_by_key(|(_, b)| b.data.len())
                .map(|(key, _)| key.clone());
            if let Some(largest) = largest {
                written.extend(self.write_out(&largest)?);
            }
        }
        Ok(written)
    }

    /// The lowest input index of any record waiting in a buffer.
    pub fn oldest_index(&self) -> Option<u64> {
        self.buffers.values().map(|b| b.oldest_index).min()
    }

    /// When the next buffer is due by its interval.
    pub fn next_deadline(&self) -> Option<i64> {
        self.buffers
            .iter()
            .map(|((target, _), b)| b.opened_ms + self.destination(*target).buffering.interval_ms)
            .min()
    }

    /// Writes every buffer due at `now_ms`.
    pub fn flush_due(&mut self, now_ms: i64) -> Result<Vec<Written>, StoreError> {
        let due: Vec<(Target, PartitionKeys)> = self
            .buffers
            .iter()
            .filter(|((target, _), b)| {
                b.opened_ms + self.destination(*target).buffering.interval_ms <= now_ms
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut written = Vec::with_capacity(due.len());
        for key in due {
            written.extend(self.write_out(&key)?);
        }
        Ok(written)
    }

    /// Writes the buffer of `key`, which is closed.
    fn write_out(&mut self, key: &(Target, PartitionKeys)) -> Result<Option<Written>, StoreError> {
        let Some(buffer) = self.buffers.remove(key) else {
            return Ok(None);
        };
        if key.0 == Target::Data {
            self.data_buffers -= 1;
        }
        self.held_bytes -= buffer.data.len() as u64;
        self.write(key, buffer).map(Some)
    }

    fn write(
        &mut self,
        (target, keys): &(Target, PartitionKeys),
        buffer: Buffer,
    ) -> Result<Written, StoreError> {
        let destination = self.destination(*target).clone();
        let oldest = Timestamp::from_millisecond(buffer.oldest_ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(destination.time_zone.clone());
        let (prefix, error_type) = match target {
            Target::Error(kind) => (&destination.error_prefix, *kind),
            _ => (&destination.prefix, ""),
        };
        // Drawn first: the seeded keys of earlier runs stay the same.
        let uuid = random_uuid(&mut self.rng);
        let converting = self.conversion.as_ref().filter(|_| *target == Target::Data);
        let extension = converting.map_or(&destination.extension, |(_, e)| e);
        let object_key = format!(
            "{}{}-1-{}-{}{}",
            prefix.evaluate(&oldest, error_type, keys, &mut self.rng),
            self.stream_name,
            oldest.strftime("%Y-%m-%d-%H-%M-%S"),
            uuid,
            extension,
        );
        let rows = converting.map(|_| buffer.newlines);
        // A Parquet object compresses its own pages: no Content-Encoding.
        let (stored, content_encoding) = match converting {
            Some((conversion, _)) => {
                let parquet =
                    conversion
                        .object(&buffer.data)
                        .map_err(|message| StoreError::Parquet {
                            object: format!("s3://{}/{object_key}", destination.bucket),
                            message,
                        })?;
                (parquet, None)
            }
            None => {
                let compression = destination.compression;
                let compressed = compression.compress(buffer.data, || random_uuid(&mut self.rng));
                (compressed, compression.content_encoding())
            }
        };
        let landed = self.delivery.put(&Object {
            bucket: &destination.bucket,
            key: &object_key,
            bytes: &stored,
            content_encoding,
        });
        Ok(Written {
            target: *target,
            bucket: destination.bucket.clone(),
            key: object_key,
            bytes: stored.len() as u64,
            records: buffer.records,
            rows,
            placed: buffer.placed,
            landed,
        })
    }
}

/// A version 4 UUID from `rng`, as Firehose names objects (and ZIP entries).
fn random_uuid(rng: &mut fastrand::Rng) -> String {
    let mut bytes = [0u8; 16];
    bytes.iter_mut().for_each(|b| *b = rng.u8(..));
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}
