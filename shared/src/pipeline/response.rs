//! Writes the response straight into one buffer, keeping it under the size limit.
//!
//! Before the first record, room is reserved for the smallest possible answer
//! to every record (`{"recordId":…,"result":"ProcessingFailed","data":""}`), so
//! whatever happens later every record can still be answered. What is left is
//! the budget for data: a record whose data does not fit is answered
//! `ProcessingFailed` with empty data instead (Firehose keeps its original
//! bytes under `processing-failed/` whatever `data` says).

use std::collections::BTreeMap;

use crate::contract::Outcome;
use crate::contract::codec;
use crate::json_str;

const OPEN: &[u8] = b"{\"records\":[";
const CLOSE: &[u8] = b"]}";
const ENTRY_OPEN: &str = "{\"recordId\":";
const RESULT_OPEN: &str = ",\"result\":\"";
const DATA_OPEN: &str = "\",\"data\":\"";
const METADATA_OPEN: &str = "\",\"metadata\":{\"partitionKeys\":{";
const METADATA_CLOSE: &str = "}}}";
const ENTRY_CLOSE: &str = "\"}";

/// A held answer's result and its closing quote; and, padded to the same length, what replaces it.
const HELD_FAILED: &[u8] = b"ProcessingFailed\"";
const HELD_DROPPED: &[u8] = b"Dropped\"         ";

/// Where a held answer's result is, to settle it.
pub struct Held {
    at: usize,
}

/// The data of one answer.
pub enum Data<'a> {
    /// `""`.
    Empty,
    /// Bytes to encode.
    Bytes(&'a [u8]),
    /// Text that is already canonical base64.
    Base64(&'a str),
}

impl Data<'_> {
    fn encoded_len(&self) -> usize {
        match self {
            Data::Empty => 0,
            Data::Bytes(bytes) => codec::encoded_len(bytes.len()),
            Data::Base64(text) => text.len(),
        }
    }
}

/// The response being written, and what the size guard did to it.
pub struct ResponseWriter {
    buf: Vec<u8>,
    /// Bytes left for data beyond the reserved minimal answers; negative when
    /// even the minimal answers do not fit the limit.
    budget: i64,
    /// Bytes the minimal answers need; over the limit means the limit cannot hold.
    pub reserved: usize,
    /// How many records the guard failed.
    pub overflowed: usize,
    written: usize,
}

impl ResponseWriter {
    /// Reserves room for an answer to each of these record ids within `limit` bytes.
    pub fn new<'a>(
        ids: impl ExactSizeIterator<Item = &'a str>,
        limit: usize,
        capacity: usize,
    ) -> Self {
        let commas = ids.len().saturating_sub(1);
        let reserved = OPEN.len() + CLOSE.len() + commas + ids.map(minimal_len).sum::<usize>();
        let mut buf = Vec::with_capacity(capacity.min(limit).max(reserved));
        buf.extend_from_slice(OPEN);
        ResponseWriter {
            buf,
            budget: limit as i64 - reserved as i64,
            reserved,
            overflowed: 0,
            written: 0,
        }
    }

    /// Writes one answer, or, when its data does not fit, a `ProcessingFailed`
    /// one with empty data. Returns the outcome actually written.
    pub fn write(
        &mut self,
        id: &str,
        outcome: Outcome,
        data: Data<'_>,
        keys: &BTreeMap<String, String>,
    ) -> Outcome {
        let extra = extra_len(outcome, &data, keys);
        if extra > self.budget {
            self.overflowed += 1;
            self.write_entry(id, Outcome::ProcessingFailed, Data::Empty, &BTreeMap::new());
            return Outcome::ProcessingFailed;
        }
        self.budget -= extra;
        self.write_entry(id, outcome, data, keys);
        outcome
    }

    /// Whether an answer with this data fits in what is left of the limit.
    pub fn fits(&self, outcome: Outcome, data: &Data<'_>, keys: &BTreeMap<String, String>) -> bool {
        extra_len(outcome, data, keys) <= self.budget
    }

    /// Writes an answer whose outcome is decided later: `ProcessingFailed`
    /// until [`ResponseWriter::settle_dropped`] changes it in place, so that a
    /// record is never `Dropped` before its re-ingestion is confirmed. It is
    /// the minimal answer reserved for the record, so it always fits.
    pub fn write_held(&mut self, id: &str) -> Held {
        self.open_entry(id);
        let at = self.buf.len();
        self.buf.extend_from_slice(HELD_FAILED);
        // The result's closing quote is in `HELD_FAILED`.
        self.buf.extend_from_slice(&DATA_OPEN.as_bytes()[1..]);
        self.buf.extend_from_slice(ENTRY_CLOSE.as_bytes());
        Held { at }
    }

    /// Turns a held answer into `Dropped`, padded with JSON whitespace.
    pub fn settle_dropped(&mut self, held: Held) {
        self.buf[held.at..held.at + HELD_DROPPED.len()].copy_from_slice(HELD_DROPPED);
    }

    /// Measures the data budget against `limit` instead, before anything is
    /// written: for when the minimal answers alone do not fit the configured one.
    pub fn widen_to(&mut self, limit: usize) {
        self.budget = limit as i64 - self.reserved as i64;
    }

    /// Closes the response and hands over its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(CLOSE);
        self.buf
    }

    /// An answer up to its result: `,{"recordId":"…","result":"`.
    fn open_entry(&mut self, id: &str) {
        if self.written > 0 {
            self.buf.push(b',');
        }
        self.written += 1;
        self.buf.extend_from_slice(ENTRY_OPEN.as_bytes());
        json_str::write(&mut self.buf, id);
        self.buf.extend_from_slice(RESULT_OPEN.as_bytes());
    }

    fn write_entry(
        &mut self,
        id: &str,
        outcome: Outcome,
        data: Data<'_>,
        keys: &BTreeMap<String, String>,
    ) {
        self.open_entry(id);
        self.buf.extend_from_slice(outcome.as_str().as_bytes());
        self.buf.extend_from_slice(DATA_OPEN.as_bytes());
        match data {
            Data::Empty => {}
            Data::Bytes(bytes) => codec::encode_into(bytes, &mut self.buf),
            Data::Base64(text) => self.buf.extend_from_slice(text.as_bytes()),
        }
        if keys.is_empty() {
            self.buf.extend_from_slice(ENTRY_CLOSE.as_bytes());
            return;
        }
        self.buf.extend_from_slice(METADATA_OPEN.as_bytes());
        for (i, (name, value)) in keys.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            json_str::write(&mut self.buf, name);
            self.buf.push(b':');
            json_str::write(&mut self.buf, value);
        }
        self.buf.extend_from_slice(METADATA_CLOSE.as_bytes());
    }
}

/// What an answer needs beyond the minimal one reserved for its record (the
/// record id is in both, so it is not measured again).
fn extra_len(outcome: Outcome, data: &Data<'_>, keys: &BTreeMap<String, String>) -> i64 {
    let minimal = body_len(Outcome::ProcessingFailed, 0, &BTreeMap::new());
    body_len(outcome, data.encoded_len(), keys) as i64 - minimal as i64
}

/// The smallest answer to the record `id`: `ProcessingFailed`, with empty data.
fn minimal_len(id: &str) -> usize {
    ENTRY_OPEN.len() + json_str::len(id) + body_len(Outcome::ProcessingFailed, 0, &BTreeMap::new())
}

/// An answer's length after its record id.
fn body_len(outcome: Outcome, data_len: usize, keys: &BTreeMap<String, String>) -> usize {
    let head = RESULT_OPEN.len() + outcome.as_str().len() + DATA_OPEN.len();
    let tail = if keys.is_empty() {
        ENTRY_CLOSE.len()
    } else {
        let pairs: usize = keys
            .iter()
            .map(|(k, v)| json_str::len(k) + 1 + json_str::len(v))
            .sum();
        METADATA_OPEN.len() + pairs + keys.len() - 1 + METADATA_CLOSE.len()
    };
    head + data_len + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Response;

    fn keys(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn held_answers_settle_in_place_as_valid_json() {
        for confirmed in [false, true] {
            let mut writer = ResponseWriter::new(["a", "b"].into_iter(), 1000, 100);
            let held = writer.write_held("a");
            writer.write("b", Outcome::Ok, Data::Bytes(b"x"), &BTreeMap::new());
            if confirmed {
                writer.settle_dropped(held);
            }
            let bytes = writer.finish();
            let response = Response::from_slice(&bytes).unwrap();
            let expected = if confirmed {
                Outcome::Dropped
            } else {
                Outcome::ProcessingFailed
            };
            assert_eq!(response.records[0].result, expected);
            assert_eq!(response.records[0].data, "");
            assert_eq!(response.records[1].result, Outcome::Ok);
        }
        let mut minimal = ResponseWriter::new(["a"].into_iter(), 1000, 100);
        minimal.write(
            "a",
            Outcome::ProcessingFailed,
            Data::Empty,
            &BTreeMap::new(),
        );
        let mut held = ResponseWriter::new(["a"].into_iter(), 1000, 100);
        held.write_held("a");
        assert_eq!(
            held.finish().len(),
            minimal.finish().len(),
            "a held answer fits the reserved room"
        );
    }

    #[test]
    fn predicted_lengths_match_what_is_written() {
        let cases: [(&str, Outcome, Data<'_>, BTreeMap<String, String>); 4] = [
            ("a", Outcome::Ok, Data::Bytes(b"hello"), BTreeMap::new()),
            (
                "quote\"and\\tab\t",
                Outcome::Dropped,
                Data::Empty,
                BTreeMap::new(),
            ),
            (
                "é",
                Outcome::Ok,
                Data::Base64("QQ=="),
                keys(&[("year", "2024"), ("c\"", "\n")]),
            ),
            (
                "x",
                Outcome::ProcessingFailed,
                Data::Bytes(b""),
                keys(&[("k", "v")]),
            ),
        ];
        for (id, outcome, data, keys) in cases {
            let predicted = (minimal_len(id) as i64 + extra_len(outcome, &data, &keys)) as usize;
            let mut w = ResponseWriter::new([id].into_iter(), usize::MAX / 2, 0);
            w.write(id, outcome, data, &keys);
            let bytes = w.finish();
            assert_eq!(bytes.len(), predicted + OPEN.len() + CLOSE.len(), "{id}");
            Response::from_slice(&bytes).unwrap();
        }
    }

    #[test]
    fn overflow_fails_later_records_and_the_limit_holds() {
        let ids = ["r1", "r2", "r3"];
        // Three minimal answers take 181 bytes; 119 remain, enough for one 80-character data.
        let limit = 300;
        let mut w = ResponseWriter::new(ids.into_iter(), limit, 0);
        let big = vec![b'x'; 60];
        let outcomes: Vec<Outcome> = ids
            .iter()
            .map(|id| w.write(id, Outcome::Ok, Data::Bytes(&big), &BTreeMap::new()))
            .collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Ok,
                Outcome::ProcessingFailed,
                Outcome::ProcessingFailed
            ]
        );
        assert_eq!(w.overflowed, 2);
        let bytes = w.finish();
        assert!(bytes.len() <= limit, "{}", bytes.len());
        let response = Response::from_slice(&bytes).unwrap();
        assert_eq!(response.records[1].data, "");
    }

    #[test]
    fn a_limit_exactly_met_is_kept() {
        let mut probe = ResponseWriter::new(["a"].into_iter(), usize::MAX / 2, 0);
        probe.write("a", Outcome::Ok, Data::Bytes(b"abc"), &BTreeMap::new());
        let exact = probe.finish().len();
        let mut w = ResponseWriter::new(["a"].into_iter(), exact, 0);
        assert_eq!(
            w.write("a", Outcome::Ok, Data::Bytes(b"abc"), &BTreeMap::new()),
            Outcome::Ok
        );
        assert_eq!(w.finish().len(), exact);
    }
}
