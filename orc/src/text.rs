//! A string column's values in one stripe, written at the stripe's end either
//! directly (the bytes, and each value's length) or through a dictionary (the
//! distinct values sorted, their lengths, and each value's entry number),
//! whichever the stripe's distinct values call for.
//!
//! The choice needs the whole stripe, so the values are kept until then with
//! where each row group starts; the row index's positions in the DATA and
//! LENGTH streams are found while the streams are written.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::column::Mark;
use crate::encoding::int_rle::{IntRle, RleVersion};
use crate::proto::{ColumnEncoding, EncodingKind, StreamKind};

/// The stripe's values so far.
#[derive(Default)]
pub struct TextValues {
    /// The values end to end, as they are written directly.
    data: Vec<u8>,
    /// Where each value ends in `data`.
    ends: Vec<usize>,
    /// The number of values before each row group.
    group_starts: Vec<usize>,
}

/// A stripe's text streams, how they are encoded, and each row group's
/// positions in them.
pub struct EncodedText {
    pub encoding: ColumnEncoding,
    pub streams: Vec<(StreamKind, Vec<u8>)>,
    pub group_marks: Vec<Vec<Mark>>,
}

impl TextValues {
    /// Adds the value `write` appends to the buffer it is given; returns it.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        let start = self.data.len();
        write(&mut self.data);
        self.ends.push(self.data.len());
        &self.data[start..]
    }

    pub fn begin_group(&mut self) {
        self.group_starts.push(self.ends.len());
    }

    /// Bytes buffered: the values and, roughly, their lengths.
    pub fn buffered(&self) -> usize {
        self.data.len() + self.ends.len()
    }

    /// Encodes the stripe's values and starts the next stripe. A dictionary is
    /// used when there are values and the distinct ones are at most
    /// `threshold` of them (0 never, 1 always: Firehose's
    /// `DictionaryKeyThreshold`).
    pub fn finish(&mut self, version: RleVersion, threshold: f64) -> EncodedText {
        let encoded = match self.dictionary(threshold) {
            Some((entries, numbers)) => self.dictionary_streams(version, entries, numbers),
            None => self.direct_streams(version),
        };
        self.data.clear();
        self.ends.clear();
        self.group_starts.clear();
        encoded
    }

    /// The values, in order.
    fn values(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.data[start..end])
    }

    /// If a dictionary pays: its entries (the distinct values, sorted) and
    /// each value's entry number. As Java's writer does, the first row group
    /// decides when the stripe has more than one; the whole stripe must pay too.
    fn dictionary(&self, threshold: f64) -> Option<(Vec<&[u8]>, Vec<u32>)> {
        let count = self.ends.len();
        if count == 0 || threshold <= 0.0 {
            return None;
        }
        let limit = |values: usize| (threshold * values as f64).floor() as usize;
        let first_group_end = self.group_starts.get(1).copied().filter(|&end| end > 0);
        let mut numbers: HashMap<&[u8], u32, RandomState> = HashMap::default();
        let mut in_order = Vec::with_capacity(count);
        for (at, value) in self.values().enumerate() {
            if Some(at) == first_group_end && numbers.len() > limit(at) {
                return None;
            }
            let next = numbers.len() as u32;
            in_order.push(*numbers.entry(value).or_insert(next));
            if numbers.len() > limit(count) {
                return None;
            }
        }
        // The specification asks for the dictionary in byte order: entries
        // numbered in order of appearance are renumbered once sorted.
        let mut entries: Vec<(&[u8], u32)> = numbers.into_iter().collect();
        entries.sort_unstable();
        let mut renumbered = vec![0; entries.len()];
        for (sorted, &(_, first_seen)) in entries.iter().enumerate() {
            renumbered[first_seen as usize] = sorted as u32;
        }
        let numbers = in_order.iter().map(|&n| renumbered[n as usize]).collect();
        Some((
            entries.into_iter().map(|(value, _)| value).collect(),
            numbers,
        ))
    }

    /// DATA holds the values' bytes, LENGTH their lengths.
    fn direct_streams(&mut self, version: RleVersion) -> EncodedText {
        let mut lengths = IntRle::new(version, false);
        let mut group_marks = Vec::new();
        let mut start = 0;
        for_each_with_groups(&self.ends, &self.group_starts, |value| match value {
            Some(&end) => {
                lengths.push((end - start) as i64);
                start = end;
            }
            None => group_marks.push(vec![
                raw_mark(StreamKind::Data, start),
                mark(StreamKind::Length, lengths.mark()),
            ]),
        });
        EncodedText {
            encoding: encoding(version, EncodingKind::Direct, EncodingKind::DirectV2, None),
            streams: vec![
                (StreamKind::Data, std::mem::take(&mut self.data)),
                (StreamKind::Length, lengths.finish()),
            ],
            group_marks,
        }
    }

    /// DATA holds each value's entry number, DICTIONARY_DATA the entries' bytes
    /// and LENGTH their lengths. Only DATA has positions in the row index.
    fn dictionary_streams(
        &self,
        version: RleVersion,
        entries: Vec<&[u8]>,
        numbers: Vec<u32>,
    ) -> EncodedText {
        let mut dictionary = Vec::new();
        let mut lengths = IntRle::new(version, false);
        for entry in &entries {
            dictionary.extend_from_slice(entry);
            lengths.push(entry.len() as i64);
        }
        let size = entries.len() as u32;
        let mut ids = IntRle::new(version, false);
        let mut group_marks = Vec::new();
        for_each_with_groups(&numbers, &self.group_starts, |number| match number {
            Some(&number) => ids.push(i64::from(number)),
            None => group_marks.push(vec![mark(StreamKind::Data, ids.mark())]),
        });
        EncodedText {
            encoding: encoding(
                version,
                EncodingKind::Dictionary,
                EncodingKind::DictionaryV2,
                Some(size),
            ),
            streams: vec![
                (StreamKind::Data, ids.finish()),
                (StreamKind::DictionaryData, dictionary),
                (StreamKind::Length, lengths.finish()),
            ],
            group_marks,
        }
    }
}

/// Calls `f` with each item, and with `None` where a row group starts
/// (before the item it starts at, or after the last for groups without items).
fn for_each_with_groups<T>(items: &[T], group_starts: &[usize], mut f: impl FnMut(Option<&T>)) {
    let mut groups = group_starts.iter().peekable();
    for (at, item) in items.iter().enumerate() {
        while groups.next_if(|&&start| start <= at).is_some() {
            f(None);
        }
        f(Some(item));
    }
    groups.for_each(|_| f(None));
}

fn mark(kind: StreamKind, (offset, run): (u64, Vec<u64>)) -> Mark {
    Mark { kind, offset, run }
}

fn raw_mark(kind: StreamKind, offset: usize) -> Mark {
    Mark {
        kind,
        offset: offset as u64,
        run: Vec::new(),
    }
}

fn encoding(
    version: RleVersion,
    v1: EncodingKind,
    v2: EncodingKind,
    dictionary_size: Option<u32>,
) -> ColumnEncoding {
    let kind = match version {
        RleVersion::V1 => v1,
        RleVersion::V2 => v2,
    };
    ColumnEncoding {
        kind: Some(kind as i32),
        dictionary_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe(values: &[&str], group_starts: &[usize]) -> TextValues {
        let mut text = TextValues::default();
        for (at, value) in values.iter().enumerate() {
            if group_starts.contains(&at) {
                text.begin_group();
            }
            text.push_with(|out| out.extend_from_slice(value.as_bytes()));
        }
        text
    }

    fn stream(encoded: &EncodedText, kind: StreamKind) -> Vec<u8> {
        let found = encoded.streams.iter().find(|(k, _)| *k == kind);
        found.map(|(_, bytes)| bytes.clone()).unwrap_or_default()
    }

    /// The specification's example: the dictionary sorted, each value its
    /// entry's number.
    #[test]
    fn repeated_values_are_written_through_a_sorted_dictionary() {
        let values = ["Nevada", "California", "Nevada", "California", "Florida"];
        let encoded = stripe(&values, &[0]).finish(RleVersion::V2, 0.8);
        assert_eq!(
            encoded.encoding.kind,
            Some(EncodingKind::DictionaryV2 as i32)
        );
        assert_eq!(encoded.encoding.dictionary_size, Some(3));
        assert_eq!(
            stream(&encoded, StreamKind::DictionaryData),
            b"CaliforniaFloridaNevada"
        );
        let mut numbers = IntRle::new(RleVersion::V2, false);
        [2, 0, 2, 0, 1].into_iter().for_each(|n| numbers.push(n));
        assert_eq!(stream(&encoded, StreamKind::Data), numbers.finish());
    }

    #[test]
    fn the_threshold_decides_between_dictionary_and_direct() {
        let values = ["a", "b", "a", "c"]; // three distinct of four
        let kind = |threshold| {
            let encoded = stripe(&values, &[0]).finish(RleVersion::V1, threshold);
            encoded
                .encoding
                .kind
                .and_then(|k| EncodingKind::try_from(k).ok())
        };
        assert_eq!(kind(0.75), Some(EncodingKind::Dictionary));
        assert_eq!(kind(0.74), Some(EncodingKind::Direct));
        assert_eq!(kind(0.0), Some(EncodingKind::Direct));
        assert_eq!(kind(1.0), Some(EncodingKind::Dictionary));
        // The first of several row groups decides, as in Java's writer.
        let mut values = vec!["a", "b", "c", "d"];
        values.extend(["a"; 100]);
        let first_group_distinct = stripe(&values, &[0, 4]).finish(RleVersion::V2, 0.8);
        assert_eq!(
            first_group_distinct.encoding.kind,
            Some(EncodingKind::DirectV2 as i32)
        );
        let one_group = stripe(&values, &[0]).finish(RleVersion::V2, 0.8);
        assert_eq!(
            one_group.encoding.kind,
            Some(EncodingKind::DictionaryV2 as i32)
        );
    }

    #[test]
    fn every_row_group_gets_its_positions_including_groups_without_values() {
        let values = ["x", "yy", "x", "zzz"];
        let mut text = stripe(&values, &[0, 2]);
        text.begin_group(); // a last group whose rows are all null
        let direct = text.finish(RleVersion::V2, 0.0);
        let offsets: Vec<Vec<u64>> = direct
            .group_marks
            .iter()
            .map(|marks| marks.iter().map(|m| m.offset).collect())
            .collect();
        assert_eq!(offsets.len(), 3);
        assert_eq!(offsets.iter().map(|o| o[0]).collect::<Vec<_>>(), [0, 3, 7]);
        assert_eq!(stream(&direct, StreamKind::Data), b"xyyxzzz");
        let mut again = stripe(&values, &[0, 2]);
        again.begin_group();
        assert_eq!(again.finish(RleVersion::V2, 1.0).group_marks.len(), 3);
    }
}
