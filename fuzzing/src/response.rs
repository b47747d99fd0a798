//! The response writer against the judge, differentially: any sequence of
//! outcomes and output sizes, under any response limit. Each record's bytes
//! are its own script (the first byte what the step does, the next two how
//! much it writes), so what every answer must be is known: what the script
//! asked, or `ProcessingFailed` with no data where it did not fit.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use firehose_bench::batch;
use firehose_local::answer::Answer;
use firehose_local::check;
use firehose_transform::pipeline::MAX_RESPONSE_BYTES;
use firehose_transform::{Pipeline, Record, TransformError, Verdict, transform_fn};
use serde_json::{Value, json};

/// The response limits the first byte chooses among.
const LIMITS: [usize; 5] = [6_000_000, 1_000_000, 10_000, 500, 0];
const RECORD_SEPARATOR: u8 = 0x1E;

/// What a record's script asks of the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Keep,
    Drop,
    Fail,
    Panic,
    /// Replace the bytes with this many bytes of every value.
    Bytes(usize),
    /// Replace the payload with a JSON object holding a string this long.
    Json(usize),
    /// Keep the bytes and set the partition key `k` to a value this long.
    PartitionKey(usize),
}

impl Script {
    fn read(record: &[u8]) -> Script {
        let size = match record {
            [_, low, high, ..] => usize::from(u16::from_le_bytes([*low, *high])),
            _ => 0,
        };
        match record.first().map_or(0, |op| op % 7) {
            0 => Script::Keep,
            1 => Script::Drop,
            2 => Script::Fail,
            3 => Script::Panic,
            4 => Script::Bytes(size),
            5 => Script::Json(size),
            _ => Script::PartitionKey(size),
        }
    }

    fn apply(self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        match self {
            Script::Keep => {}
            Script::Drop => return Ok(Verdict::Drop),
            Script::Fail => return Err(TransformError::new("the script fails it")),
            Script::Panic => panic!("the script panics"),
            Script::Bytes(size) => record.set_bytes(pattern(size)),
            Script::Json(size) => record.set_json(json_of(size)),
            Script::PartitionKey(size) => record.set_partition_key("k", "v".repeat(size)),
        }
        Ok(Verdict::Keep)
    }

    /// The `Ok` answer's data and partition keys, or the result it must have.
    fn expected(self, original: &[u8]) -> Result<(Vec<u8>, BTreeMap<String, String>), &str> {
        let no_keys = BTreeMap::new();
        match self {
            Script::Keep => Ok((original.to_vec(), no_keys)),
            Script::Drop => Err("Dropped"),
            Script::Fail | Script::Panic => Err("ProcessingFailed"),
            Script::Bytes(size) => Ok((pattern(size), no_keys)),
            Script::Json(size) => {
                let mut text = json_of(size).to_string().into_bytes();
                text.push(b'\n');
                Ok((text, no_keys))
            }
            Script::PartitionKey(size) => Ok((
                original.to_vec(),
                BTreeMap::from([("k".to_owned(), "v".repeat(size))]),
            )),
        }
    }
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// A string of `size` characters, some of them ones JSON must escape.
fn json_of(size: usize) -> Value {
    let text: String = (0..size)
        .map(|i| ['a', '"', '\\', '\u{1}', 'é'][i % 5])
        .collect();
    json!({ "s": text, "n": size })
}

/// The first byte chooses the limit; the rest are the records' scripts.
pub fn run(data: &[u8]) {
    static PIPELINES: OnceLock<Vec<Pipeline>> = OnceLock::new();
    let pipelines = PIPELINES.get_or_init(|| {
        LIMITS
            .iter()
            .map(|limit| {
                Pipeline::new()
                    .then(transform_fn("script", |record| {
                        Script::read(record.original()).apply(record)
                    }))
                    .with_response_limit(*limit)
            })
            .collect()
    });
    let (chosen, scripts) = crate::choose(data, LIMITS.len());
    let records: Vec<&[u8]> = scripts.split(|b| *b == RECORD_SEPARATOR).collect();
    let payloads: Vec<Vec<u8>> = records.iter().map(|r| r.to_vec()).collect();
    let event = batch::event(&payloads);
    let processed = match pipelines[chosen].process(&event) {
        Ok(processed) => processed,
        Err(e) => panic!("a well-formed event was refused: {e}"),
    };
    let violations = check::violations(&event, &processed.response);
    assert!(
        violations.is_empty(),
        "Firehose would not take the answer as it is: {violations:#?}"
    );
    // A limit the minimal answers alone pass gives way to Lambda's cap.
    let limit = match LIMITS[chosen] {
        limit if limit < minimal_len(&event) => MAX_RESPONSE_BYTES,
        limit => limit,
    };
    assert!(
        processed.response.len() <= limit,
        "the response is {} bytes, over its limit of {limit}",
        processed.response.len()
    );
    let answer = match Answer::parse(&processed.response) {
        Ok(answer) => answer,
        Err(e) => panic!("the judge took an answer that cannot be read: {e}"),
    };
    for (record, answered) in records.iter().zip(&answer.records) {
        let data = answered.bytes().unwrap_or_default();
        let keys: BTreeMap<String, String> = answered
            .partition_keys
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let script = Script::read(record);
        match (script.expected(record), answered.result.as_deref()) {
            (Ok(wanted), Some("Ok")) => assert!(
                wanted == (data.to_vec(), keys),
                "{script:?}: the data or keys answered are not what the step wrote"
            ),
            // It did not fit.
            (Ok(_), Some("ProcessingFailed")) => assert!(data.is_empty(), "{script:?}"),
            (Err("ProcessingFailed"), Some("ProcessingFailed")) => assert!(
                data.is_empty() || data == *record,
                "{script:?}: a failed record keeps its bytes or carries none"
            ),
            (Err(result), Some(answered)) if result == answered => {}
            (wanted, answered) => {
                panic!("{script:?}: answered {answered:?}, wanted {wanted:?}")
            }
        }
    }
}

/// The length of the answer that fails every record of `event` with no data.
fn minimal_len(event: &[u8]) -> usize {
    let ids = check::asked_ids(event).unwrap_or_default();
    let entries: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"recordId":"{id}","result":"ProcessingFailed","data":""}}"#))
        .collect();
    format!(r#"{{"records":[{}]}}"#, entries.join(",")).len()
}
