//! What a run did, for people (a few lines) and for scripts (`--json`).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::convert::table::TableSummary;
use crate::sink::delivery::Landed;
use crate::sink::objects::{Target, Written};

/// At most this many distinct messages of each kind are kept.
const KEPT: usize = 10;

/// At most this many distinct dropped keys are named; the rest are counted together.
const KEYS_NAMED: usize = 100;
const OTHER_KEYS: &str = "(other keys)";

/// The counts and objects of a run.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub stream: String,
    /// When the clock started (epoch milliseconds): what `--start-time` repeats the run with.
    #[serde(skip)]
    pub started_ms: i64,
    /// Records the producers put, refused ones included.
    pub records_in: u64,
    pub bytes_in: u64,
    /// Refused before they entered the stream (over 1,000 KiB, or an unreadable input line).
    pub refused: u64,
    /// Records de-aggregation added (of KPL aggregates, and by `RecordDeAggregation`):
    /// a record split in three adds two.
    pub deaggregated: u64,
    /// KPL aggregates from a Kinesis source, split into their user records.
    pub kpl_aggregates: u64,
    /// Replayed `format-conversion-failed` records, which skip the processors and the function.
    pub replayed_to_conversion: u64,
    /// Records an earlier `serve` accepted and kept in `--state` without their
    /// having landed, delivered by this one; those that had landed in part land again.
    #[serde(skip_serializing_if = "is_zero")]
    pub from_state: u64,
    /// In data objects.
    pub delivered: u64,
    pub dropped: u64,
    /// In error objects.
    pub failed: u64,
    /// In objects the store did not take in time, kept in the undelivered folder.
    pub undelivered: u64,
    /// In objects neither the store nor the undelivered folder took.
    pub lost: u64,
    pub invocations: u64,
    pub retries: u64,
    /// Function processes started: the first, and each after one exited or failed.
    pub cold_starts: u64,
    /// Records in error objects, by error code.
    pub errors: BTreeMap<String, u64>,
    pub objects: Vec<Written>,
    pub refusals: Vec<String>,
    /// Why invocations failed (each retried).
    pub invocation_failures: Vec<String>,
    /// The contract checker's findings on the answers.
    pub findings: Vec<String>,
    /// The input could not be read to its end: why. What was read before still landed.
    pub stopped: Option<String>,
    /// Ctrl-C or SIGTERM stopped the reading of input; what was read before still landed.
    pub interrupted: bool,
    /// The Glue table records were converted through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<TableSummary>,
    /// Keys the converter dropped because no column has them (Firehose drops
    /// them without a word), with how many times.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped_keys: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Keeps `message` if it is new and there is room.
pub fn keep(list: &mut Vec<String>, message: String) {
    if list.len() < KEPT && !list.contains(&message) {
        list.push(message);
    }
}

/// One object as the summary lists it: its kind, where it is, its size, and
/// where it landed when that is not the store.
pub fn object_line(object: &Written) -> String {
    let kind = match object.target {
        Target::Data => "data",
        Target::Error(kind) => kind,
        Target::Backup => "backup",
    };
    let rows = object
        .rows
        .map(|n| format!(", {n} rows"))
        .unwrap_or_default();
    let landed = match &object.landed {
        Landed::Stored => String::new(),
        Landed::Undelivered { path, .. } => format!(", UNDELIVERED: kept at {}", path.display()),
        Landed::Lost { .. } => ", LOST".to_owned(),
    };
    format!(
        "{kind:<19} s3://{}/{}  {} bytes, {} records{rows}{landed}",
        object.bucket, object.key, object.bytes, object.records
    )
}

impl Summary {
    /// Counts a key the converter dropped.
    pub fn key_dropped(&mut self, key: String) {
        let named = self.dropped_keys.len() < KEYS_NAMED || self.dropped_keys.contains_key(&key);
        let key = if named { key } else { OTHER_KEYS.to_owned() };
        *self.dropped_keys.entry(key).or_default() += 1;
    }

    /// Counts a written object.
    pub fn written(&mut self, object: &Written) {
        let count = match (&object.landed, object.target) {
            (_, Target::Backup) => None,
            (Landed::Stored, Target::Data) => Some(&mut self.delivered),
            (Landed::Stored, Target::Error(_)) => Some(&mut self.failed),
            (Landed::Undelivered { .. }, _) => Some(&mut self.undelivered),
            (Landed::Lost { .. }, _) => Some(&mut self.lost),
        };
        if let Some(count) = count {
            *count += object.records;
        }
        self.objects.push(object.clone());
    }

    /// Every record put ended in exactly one place.
    pub fn accounted_for(&self) -> bool {
        self.ended() == self.records_in + self.deaggregated
    }

    /// Records that ended somewhere, each once.
    fn ended(&self) -> u64 {
        self.delivered + self.dropped + self.failed + self.refused + self.undelivered + self.lost
    }

    /// Objects that are not in the store: kept in the undelivered folder, or lost.
    pub fn not_stored(&self) -> impl Iterator<Item = &Written> {
        self.objects.iter().filter(|o| o.landed != Landed::Stored)
    }

    /// The summary for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== delivery stream {}", self.stream);
        let _ = writeln!(
            out,
            "records: {} in ({} bytes): {} delivered, {} dropped, {} failed, {} refused",
            self.records_in, self.bytes_in, self.delivered, self.dropped, self.failed, self.refused
        );
        if self.kpl_aggregates > 0 {
            let _ = writeln!(
                out,
                "{} of them were KPL aggregates, de-aggregated before the function",
                self.kpl_aggregates
            );
        }
        if self.deaggregated > 0 {
            let _ = writeln!(
                out,
                "de-aggregation made {} more records of them",
                self.deaggregated
            );
        }
        if self.from_state > 0 {
            let _ = writeln!(
                out,
                "{} of them were kept in --state by an earlier run that stopped before they landed (at most that many land twice)",
                self.from_state
            );
        }
        if self.replayed_to_conversion > 0 {
            let _ = writeln!(
                out,
                "{} of them were format-conversion-failed records, replayed straight to conversion",
                self.replayed_to_conversion
            );
        }
        let _ = writeln!(
            out,
            "invocations: {} ({} retries), cold starts: {}",
            self.invocations, self.retries, self.cold_starts
        );
        let _ = writeln!(out, "== objects ({})", self.objects.len());
        for object in &self.objects {
            let _ = writeln!(out, "{}", object_line(object));
        }
        if let Some(schema) = &self.schema {
            let _ = writeln!(
                out,
                "== converted to {} through the Glue table {}",
                schema.format, schema.table
            );
            for note in &schema.notes {
                let _ = writeln!(out, "note: {note}");
            }
            let _ = writeln!(out, "columns: {}", schema.columns.join(", "));
            if !schema.partition_keys.is_empty() {
                let _ = writeln!(
                    out,
                    "partition keys (in the key, not the rows): {}",
                    schema.partition_keys.join(", ")
                );
            }
            if self.dropped_keys.is_empty() {
                let _ = writeln!(out, "no key was dropped");
            } else {
                let _ = writeln!(out, "== keys dropped by the converter (no column has them)");
                for (key, n) in &self.dropped_keys {
                    let _ = writeln!(out, "{key}: {n} times");
                }
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out, "== errors");
            for (code, n) in &self.errors {
                let _ = writeln!(out, "{code}: {n} records");
            }
        }
        let sections = [
            ("invocation failures (retried)", &self.invocation_failures),
            ("the contract checker", &self.findings),
            ("refused", &self.refusals),
        ];
        for (title, lines) in sections {
            if !lines.is_empty() {
                let _ = writeln!(out, "== {title}");
                lines.iter().for_each(|l| {
                    let _ = writeln!(out, "{l}");
                });
            }
        }
        let not_stored: Vec<&Written> = self.not_stored().collect();
        if !not_stored.is_empty() {
            let _ = writeln!(out, "== not in the store ({})", not_stored.len());
            for o in not_stored {
                let _ = match &o.landed {
                    Landed::Undelivered { path, why } => writeln!(
                        out,
                        "s3://{}/{}: undelivered ({why}); kept at {}, for `replay --undelivered`",
                        o.bucket,
                        o.key,
                        path.display()
                    ),
                    Landed::Lost { why } => writeln!(
                        out,
                        "s3://{}/{}: LOST, {} records ({why})",
                        o.bucket, o.key, o.records
                    ),
                    Landed::Stored => Ok(()),
                };
            }
        }
        if self.interrupted {
            let _ = writeln!(
                out,
                "== interrupted: no more input was read; the {} records read before landed as shown above",
                self.records_in
            );
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(out, "== stopped early: {why}");
            let _ = writeln!(
                out,
                "(the {} records read before it landed as shown above)",
                self.records_in
            );
        }
        let verdict = if self.accounted_for() {
            "every record is accounted for"
        } else {
            "RECORDS UNACCOUNTED FOR"
        };
        let added = match self.deaggregated {
            0 => String::new(),
            n => format!(" + {n} de-aggregated"),
        };
        // Named only when there are some, as most runs have none.
        let elsewhere: String = [("undelivered", self.undelivered), ("LOST", self.lost)]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!(" + {n} {name}"))
            .collect();
        let _ = writeln!(
            out,
            "{verdict}: {} delivered + {} dropped + {} failed + {} refused{elsewhere} = {} of {} in{added}",
            self.delivered,
            self.dropped,
            self.failed,
            self.refused,
            self.ended(),
            self.records_in
        );
        out
    }
}
