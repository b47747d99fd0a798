//! A readable view of a response: each record's result and its decoded data.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::answer::{Answer, AnsweredData, AnsweredRecord};

/// One block per record: index, result and id, partition keys, then the data
/// decoded and quoted (non-UTF-8 data is shown as base64). Data longer than
/// `max_chars` is cut, saying how much was left out.
pub fn render(answer: &Answer, max_chars: Option<usize>) -> String {
    let count = |word: &str| {
        let is = |r: &&AnsweredRecord| r.result.as_deref() == Some(word);
        answer.records.iter().filter(is).count()
    };
    let mut out = format!(
        "{} records: {} Ok, {} Dropped, {} ProcessingFailed\n",
        answer.records.len(),
        count("Ok"),
        count("Dropped"),
        count("ProcessingFailed")
    );
    for (i, record) in answer.records.iter().enumerate() {
        let result = record.result.as_deref().unwrap_or("<no result>");
        let id = record.record_id.as_deref().unwrap_or("<no recordId>");
        let _ = writeln!(out, "[{i}] {result} {id}");
        if let Some(partition_keys) = &record.partition_keys {
            let keys: Vec<String> = partition_keys
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(text) => format!("{k}={text}"),
                    None => format!("{k}={v}"),
                })
                .collect();
            let _ = writeln!(out, "    partition keys: {}", keys.join(", "));
        }
        let _ = writeln!(out, "    {}", data(record, max_chars));
    }
    out
}

fn data(record: &AnsweredRecord, max_chars: Option<usize>) -> String {
    let decoded = match &record.data {
        Some(AnsweredData::Canonical(bytes) | AnsweredData::Lenient(bytes)) => bytes.clone(),
        Some(AnsweredData::NotBase64(text)) => return format!("<invalid base64: {text:?}>"),
        None => return "<no data>".to_owned(),
    };
    match String::from_utf8(decoded) {
        Ok(text) => match max_chars.and_then(|max| text.char_indices().nth(max)) {
            Some((cut, _)) => format!("{:?}… ({} more bytes)", &text[..cut], text.len() - cut),
            None => format!("{text:?}"),
        },
        Err(e) => format!(
            "<{} bytes, not UTF-8; base64 {}>",
            e.as_bytes().len(),
            base64::engine::general_purpose::STANDARD.encode(e.as_bytes())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_results_keys_and_decoded_data() {
        let response = Answer::parse(
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
        let response =
            Answer::parse(br#"{"records":[{"recordId":"a","result":"Ok","data":"YWJjZGVm"}]}"#)
                .unwrap();
        assert!(render(&response, Some(2)).contains("\"ab\"… (4 more bytes)"));
    }
}
