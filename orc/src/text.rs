//! A string column's values in one stripe, written at the stripe's end either
//! directly (the bytes, and each value's length) or through a dictionary (the
//! distinct values sorted, their lengths, and each value's entry number),
//! whichever the stripe's distinct values call for.
//!
//! While a dictionary may pay, each distinct value is kept once with each
//! value's entry number (found by hash while the value is in the cache; a
//! repeated value is never copied); once it cannot, the values are kept end
//! to end. Where each row group starts is kept too: the row index's
//! positions in the DATA and LENGTH streams are found while the streams are
//! written.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::column::Mark;
use crate::encoding::int_rle::{IntRle, RleVersion};
use crate::proto::{ColumnEncoding, EncodingKind, StreamKind};

/// The stripe's values so far.
pub struct TextValues {
    /// The largest share of distinct values among the stripe's values at
    /// which a dictionary is written (0 never, 1 always: Firehose's
    /// `DictionaryKeyThreshold`).
    threshold: f64,
    /// The number of values before each row group.
    group_starts: Vec<usize>,
    kept: Kept,
}

/// How a stripe's values are kept.
enum Kept {
    /// While a dictionary may pay: its entries, and each value's entry.
    Distinct(Distinct),
    /// Once it cannot: the values end to end.
    Direct(Strings),
}

/// Strings end to end.
#[derive(Default)]
struct Strings {
    data: Vec<u8>,
    /// Where each string ends in `data`.
    ends: Vec<usize>,
}

/// Distinct values, numbered in order of first appearance.
#[derive(Default)]
struct Distinct {
    hasher: RandomState,
    /// Each entry's number and hash, found by its value's hash.
    table: HashTable<(u32, u64)>,
    entries: Strings,
    /// Each value's entry number.
    numbers: Vec<u32>,
    /// The row group each entry was last seen in.
    last_group: Vec<u32>,
}

/// A stripe's text streams, how they are encoded, and each row group's
/// positions in them.
pub struct EncodedText {
    pub encoding: ColumnEncoding,
    pub streams: Vec<(StreamKind, Vec<u8>)>,
    pub group_marks: Vec<Vec<Mark>>,
}

impl TextValues {
    /// Values written through a dictionary in stripes whose distinct values
    /// are at most `threshold` of their values.
    pub fn new(threshold: f64) -> TextValues {
        TextValues {
            threshold,
            group_starts: Vec::new(),
            kept: Kept::empty(threshold),
        }
    }

    /// Adds `value`. Returns false when it repeats a value already added in
    /// this row group (the group's statistics have it already), true when
    /// it may not.
    pub fn push(&mut self, value: &[u8]) -> bool {
        match &mut self.kept {
            Kept::Distinct(distinct) => distinct.push(value, self.group_starts.len() as u32),
            Kept::Direct(strings) => {
                strings.push(value);
                true
            }
        }
    }

    /// As in Java's writer, the first of several row groups decides: when
    /// its distinct values are too many, the stripe is written directly.
    pub fn begin_group(&mut self) {
        let values = self.kept.count();
        if self.group_starts.len() == 1 && values > 0 && !self.dictionary_pays() {
            self.write_directly();
        }
        self.group_starts.push(values);
    }

    /// Bytes buffered: the strings kept and, roughly, their lengths and
    /// entry numbers.
    pub fn buffered(&self) -> usize {
        match &self.kept {
            Kept::Distinct(distinct) => distinct.entries.buffered() + distinct.numbers.len() * 4,
            Kept::Direct(strings) => strings.buffered(),
        }
    }

    /// Encodes the stripe's values and starts the next stripe. A dictionary is
    /// used when there are values and the distinct ones are at most the
    /// threshold of them (and of the first row group's).
    pub fn finish(&mut self, version: RleVersion) -> EncodedText {
        if !self.dictionary_pays() {
            self.write_directly();
        }
        let kept = std::mem::replace(&mut self.kept, Kept::empty(self.threshold));
        let encoded = match kept {
            Kept::Distinct(distinct) => self.dictionary_streams(version, distinct),
            Kept::Direct(strings) => self.direct_streams(version, strings),
        };
        self.group_starts.clear();
        encoded
    }

    /// Whether the stripe's values so far are kept as distinct values and
    /// they are few enough for a dictionary.
    fn dictionary_pays(&self) -> bool {
        match &self.kept {
            Kept::Distinct(distinct) => {
                let values = distinct.numbers.len();
                values > 0
                    && distinct.entries.count() <= (self.threshold * values as f64).floor() as usize
            }
            Kept::Direct(_) => false,
        }
    }

    /// Keeps the values end to end from here on.
    fn write_directly(&mut self) {
        if let Kept::Distinct(distinct) = &mut self.kept {
            // Entries are numbered as they first appear: when no value
            // repeated, they are the values in order and need no copy.
            let strings = if distinct.entries.count() == distinct.numbers.len() {
                std::mem::take(&mut distinct.entries)
            } else {
                let mut strings = Strings::default();
                for &number in &distinct.numbers {
                    strings.push(distinct.entries.get(number as usize));
                }
                strings
            };
            self.kept = Kept::Direct(strings);
        }
    }

    /// DATA holds the values' bytes, LENGTH their lengths.
    fn direct_streams(&self, version: RleVersion, strings: Strings) -> EncodedText {
        let mut lengths = IntRle::new(version, false);
        let mut group_marks = Vec::new();
        let mut start = 0;
        for_each_with_groups(&strings.ends, &self.group_starts, |value| match value {
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
                (StreamKind::Data, strings.data),
                (StreamKind::Length, lengths.finish()),
            ],
            group_marks,
        }
    }

    /// DATA holds each value's entry number, DICTIONARY_DATA the entries' bytes
    /// and LENGTH their lengths. Only DATA has positions in the row index.
    fn dictionary_streams(&self, version: RleVersion, distinct: Distinct) -> EncodedText {
        // The specification asks for the dictionary in byte order: entries
        // numbered in order of appearance are renumbered once sorted.
        let mut entries: Vec<(&[u8], u32)> = (0..distinct.entries.count())
            .map(|number| (distinct.entries.get(number), number as u32))
            .collect();
        entries.sort_unstable();
        let mut renumbered = vec![0; entries.len()];
        let mut dictionary = Vec::with_capacity(distinct.entries.data.len());
        let mut lengths = IntRle::new(version, false);
        for (sorted, &(entry, first_seen)) in entries.iter().enumerate() {
            renumbered[first_seen as usize] = sorted as u32;
            dictionary.extend_from_slice(entry);
            lengths.push(entry.len() as i64);
        }
        let mut ids = IntRle::new(version, false);
        let mut group_marks = Vec::new();
        for_each_with_groups(
            &distinct.numbers,
            &self.group_starts,
            |number| match number {
                Some(&number) => ids.push(i64::from(renumbered[number as usize])),
                None => group_marks.push(vec![mark(StreamKind::Data, ids.mark())]),
            },
        );
        EncodedText {
            encoding: encoding(
                version,
                EncodingKind::Dictionary,
                EncodingKind::DictionaryV2,
                Some(entries.len() as u32),
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

impl Kept {
    /// A stripe's start: a dictionary may pay unless the threshold is 0.
    fn empty(threshold: f64) -> Kept {
        if threshold > 0.0 {
            Kept::Distinct(Distinct::default())
        } else {
            Kept::Direct(Strings::default())
        }
    }

    fn count(&self) -> usize {
        match self {
            Kept::Distinct(distinct) => distinct.numbers.len(),
            Kept::Direct(strings) => strings.count(),
        }
    }
}

impl Strings {
    fn push(&mut self, value: &[u8]) {
        self.data.extend_from_slice(value);
        self.ends.push(self.data.len());
    }

    fn get(&self, at: usize) -> &[u8] {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.data[start..self.ends[at]]
    }

    fn count(&self) -> usize {
        self.ends.len()
    }

    fn buffered(&self) -> usize {
        self.data.len() + self.ends.len()
    }
}

impl Distinct {
    /// Adds `value` as a new entry or as the number of the entry it equals.
    /// Returns false when that entry was seen before in row group `group`.
    fn push(&mut self, value: &[u8], group: u32) -> bool {
        let hash = self.hasher.hash_one(value);
        let entries = &self.entries;
        let same = |&(number, _): &(u32, u64)| entries.get(number as usize) == value;
        let (number, first_in_group) = match self.table.find(hash, same) {
            Some(&(number, _)) => {
                let last = &mut self.last_group[number as usize];
                let first_in_group = *last != group;
                *last = group;
                (number, first_in_group)
            }
            None => {
                let number = entries.count() as u32;
                self.entries.push(value);
                self.table
                    .insert_unique(hash, (number, hash), |&(_, hash)| hash);
                self.last_group.push(group);
                (number, true)
            }
        };
        self.numbers.push(number);
        first_in_group
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

/// `v1` in format 0.11 (RLE v1), `v2` in 0.12.
pub fn encoding(
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

    fn stripe(values: &[&str], group_starts: &[usize], threshold: f64) -> TextValues {
        let mut text = TextValues::new(threshold);
        for (at, value) in values.iter().enumerate() {
            if group_starts.contains(&at) {
                text.begin_group();
            }
            text.push(value.as_bytes());
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
        let encoded = stripe(&values, &[0], 0.8).finish(RleVersion::V2);
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
            let encoded = stripe(&values, &[0], threshold).finish(RleVersion::V1);
            encoded
                .encoding
                .kind
                .and_then(|k| EncodingKind::try_from(k).ok())
        };
        assert_eq!(kind(0.75), Some(EncodingKind::Dictionary));
        assert_eq!(kind(0.74), Some(EncodingKind::Direct));
        assert_eq!(kind(0.0), Some(EncodingKind::Direct));
        assert_eq!(kind(1.0), Some(EncodingKind::Dictionary));
        // Kept as distinct values until the end, written directly in order.
        let direct = stripe(&values, &[0], 0.74).finish(RleVersion::V1);
        assert_eq!(stream(&direct, StreamKind::Data), b"abac");
        // Every value distinct: the entries themselves are written.
        let distinct = stripe(&["c", "a", "b"], &[0], 0.5).finish(RleVersion::V1);
        assert_eq!(stream(&distinct, StreamKind::Data), b"cab");
        // The first of several row groups decides, as in Java's writer.
        let mut values = vec!["a", "b", "c", "d"];
        values.extend(["a"; 100]);
        let first_group_distinct = stripe(&values, &[0, 4], 0.8).finish(RleVersion::V2);
        assert_eq!(
            first_group_distinct.encoding.kind,
            Some(EncodingKind::DirectV2 as i32)
        );
        assert_eq!(
            stream(&first_group_distinct, StreamKind::Data),
            [&b"abcd"[..], &[b'a'; 100]].concat()
        );
        let one_group = stripe(&values, &[0], 0.8).finish(RleVersion::V2);
        assert_eq!(
            one_group.encoding.kind,
            Some(EncodingKind::DictionaryV2 as i32)
        );
    }

    /// The row group's statistics need each distinct value once: a value is
    /// told as new the first time in each group, and always once written
    /// directly.
    #[test]
    fn a_value_is_new_once_per_row_group() {
        let mut text = TextValues::new(1.0);
        text.begin_group();
        let pushed: Vec<bool> = ["a", "b", "a", "a"].map(|v| text.push(v.as_bytes())).into();
        assert_eq!(pushed, [true, true, false, false]);
        text.begin_group();
        let pushed: Vec<bool> = ["a", "a", "c"].map(|v| text.push(v.as_bytes())).into();
        assert_eq!(pushed, [true, false, true]);
        let mut direct = TextValues::new(0.0);
        direct.begin_group();
        assert!(direct.push(b"a") && direct.push(b"a"));
    }

    #[test]
    fn every_row_group_gets_its_positions_including_groups_without_values() {
        let values = ["x", "yy", "x", "zzz"];
        let mut text = stripe(&values, &[0, 2], 0.0);
        text.begin_group(); // a last group whose rows are all null
        let direct = text.finish(RleVersion::V2);
        let offsets: Vec<Vec<u64>> = direct
            .group_marks
            .iter()
            .map(|marks| marks.iter().map(|m| m.offset).collect())
            .collect();
        assert_eq!(offsets.len(), 3);
        assert_eq!(offsets.iter().map(|o| o[0]).collect::<Vec<_>>(), [0, 3, 7]);
        assert_eq!(stream(&direct, StreamKind::Data), b"xyyxzzz");
        let mut again = stripe(&values, &[0, 2], 1.0);
        again.begin_group();
        assert_eq!(again.finish(RleVersion::V2).group_marks.len(), 3);
    }

    /// Each stripe counts its own distinct values: the first group's verdict
    /// and the entries of one stripe do not carry into the next.
    #[test]
    fn the_next_stripe_starts_its_dictionary_afresh() {
        let mut text = TextValues::new(0.5);
        let push = |text: &mut TextValues, values: &[&str]| {
            text.begin_group();
            for value in values {
                text.push(value.as_bytes());
            }
        };
        push(&mut text, &["a", "b", "c", "d"]);
        push(&mut text, &["a"; 20]);
        let kind = |encoded: &EncodedText| encoded.encoding.kind;
        assert_eq!(
            kind(&text.finish(RleVersion::V2)),
            Some(EncodingKind::DirectV2 as i32)
        );
        push(&mut text, &["y", "x", "y", "y"]);
        let second = text.finish(RleVersion::V2);
        assert_eq!(kind(&second), Some(EncodingKind::DictionaryV2 as i32));
        assert_eq!(stream(&second, StreamKind::DictionaryData), b"xy");
        let mut numbers = IntRle::new(RleVersion::V2, false);
        [1, 0, 1, 1].into_iter().for_each(|n| numbers.push(n));
        assert_eq!(stream(&second, StreamKind::Data), numbers.finish());
    }
}
