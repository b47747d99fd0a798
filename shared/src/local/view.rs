//! A readable view of a response: each record's result and its decoded data.

use std::fmt::Write as _;

use crate::codec;
use crate::contract::{Outcome, Response};

/// One block per record: index, result and id, partition keys, then the data
/// decoded and quoted (non-UTF-8 data is shown as base64). Data longer than
/// `max_chars` is cut, saying how much was left out.
pub fn render(response: &Response, max_chars: Option<usize>) -> String {
    let count = |o: Outcome| response.records.iter().filter(|r| r.result == o).count();
    let mut out = format!(
        "{} records: {} Ok, {} Dropped, {} ProcessingFailed\n",
        response.records.len(),
        count(Outcome::Ok),
        count(Outcome::Dropped),
        count(Outcome::ProcessingFailed)
    );
    for (i, record) in response.records.iter().enumerate() {
        let _ = writeln!(out, "[{i}] {} {}", record.result.as_str(), record.record_id);
        if let Some(metadata) = &record.metadata {
            let keys: Vec<String> = metadata
                .partition_keys
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(out, "    partition keys: {}", keys.join(", "));
        }
        let _ = writeln!(out, "    {}", data(&record.data, max_chars));
    }
    out
}

fn data(base64: &str, max_chars: Option<usize>) -> String {
    let Ok(decoded) = codec::decode(base64) else {
        return format!("<invalid base64: {base64:?}>");
    };
    match String::from_utf8(decoded.bytes) {
        Ok(text) => match max_chars.and_then(|max| text.char_indices().nth(max)) {
            Some((cut, _)) => format!("{:?}… ({} more bytes)", &text[..cut], text.len() - cut),
            None => format!("{text:?}"),
        },
        Err(e) => format!("<{} bytes, not UTF-8; base64 {base64}>", e.as_bytes().len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_results_keys_and_decoded_data() {
        let response = Response::from_slice(
            br#"{"records":[{"recordId":"a","result":"Ok","data":"eyJhIjoxfQo=","metadata":{"partitionKeys":{"y":"2024"}}},
                {"recordId":"b","result":"ProcessingFailed","data":"/w=="}]}"#,
        )
        .unwrap();
        assert_eq!(
            render(&response, None),
            "2 records: 1 Ok, 0 Dropped, 1 ProcessingFailed\n[0] Ok a\n    partition keys: y=2024\n    \"{\\\"a\\\":1}\\n\"\n\
             [1] ProcessingFailed b\n    <1 bytes, not UTF-8; base64 /w==>\n"
        );
    }

    #[test]
    fn long_data_is_cut_when_asked() {
        let response = Response::from_slice(
            br#"{"records":[{"recordId":"a","result":"Ok","data":"YWJjZGVm"}]}"#,
        )
        .unwrap();
        assert!(render(&response, Some(2)).contains("\"ab\"… (4 more bytes)"));
    }
}
