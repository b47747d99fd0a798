//! Whether two answers to one event say the same: the same result for every
//! record, and for each `Ok` record the same JSON (numbers compared as
//! numbers, so `1e-5` and `1e-05`, or `0.5` and `0.50`, agree, as they do in
//! a Parquet column), so that a comparison of speed is one of the same job.

use firehose_local::answer::{Answer, AnsweredData};
use serde_json::Value;

/// How `theirs` compares with the reference answer `ours`: the first real
/// difference, or how many numbers differ only in their last digits (a float
/// parser that is not exact, as serde_json's default one is not).
pub fn difference(ours: &[u8], theirs: &[u8]) -> Result<usize, String> {
    let (ours, theirs) = both(ours, theirs)?;
    if ours.records.len() != theirs.records.len() {
        return Err(format!(
            "{} records answered, against {}",
            theirs.records.len(),
            ours.records.len()
        ));
    }
    let mut inexact = 0;
    for (i, (a, b)) in ours.records.iter().zip(&theirs.records).enumerate() {
        if a.result != b.result {
            return Err(format!(
                "record {i}: {:?}, against {:?}",
                b.result, a.result
            ));
        }
        if a.result.as_deref() == Some("Ok") {
            let (a, b) = (json(a.data.as_ref()), json(b.data.as_ref()));
            match (&a, &b) {
                (Some(a), Some(b)) if same(a, b, &mut inexact) => {}
                _ => return Err(format!("record {i}: {b:?}, against {a:?}")),
            }
        }
    }
    Ok(inexact)
}

/// How many records `theirs` reads (answers `Ok`) beside `ours`, for functions
/// whose output formats differ: only the results are compared.
pub fn results(ours: &[u8], theirs: &[u8]) -> Result<String, String> {
    let (ours, theirs) = both(ours, theirs)?;
    let ok = |r: &firehose_local::answer::AnsweredRecord| r.result.as_deref() == Some("Ok");
    let (mut both, mut only_ours, mut only_theirs) = (0, 0, 0);
    for (a, b) in ours.records.iter().zip(&theirs.records) {
        match (ok(a), ok(b)) {
            (true, true) => both += 1,
            (true, false) => only_ours += 1,
            (false, true) => only_theirs += 1,
            (false, false) => {}
        }
    }
    Ok(format!(
        "both read {both} of {} records; {only_ours} only ours reads, {only_theirs} only it reads",
        ours.records.len()
    ))
}

/// Both answers, read.
fn both(ours: &[u8], theirs: &[u8]) -> Result<(Answer, Answer), String> {
    match (Answer::parse(ours), Answer::parse(theirs)) {
        (Ok(ours), Ok(theirs)) => Ok((ours, theirs)),
        (Err(e), _) | (_, Err(e)) => Err(format!("an answer does not read: {e}")),
    }
}

fn json(data: Option<&AnsweredData>) -> Option<Value> {
    match data? {
        AnsweredData::Canonical(bytes) | AnsweredData::Lenient(bytes) => {
            serde_json::from_slice(bytes).ok()
        }
        AnsweredData::NotBase64(_) => None,
    }
}

/// The same JSON, numbers compared by value and keys by name; numbers within
/// a few units of the last digit count as the same, and are counted.
fn same(a: &Value, b: &Value, inexact: &mut usize) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) else {
                return false;
            };
            if x != y {
                *inexact += 1;
            }
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y, inexact))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same(v, w, inexact)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64_simd::STANDARD;

    fn answer(records: &[(&str, &str)]) -> Vec<u8> {
        let records: Vec<Value> = records
            .iter()
            .enumerate()
            .map(|(i, (result, data))| {
                serde_json::json!({"recordId": i.to_string(), "result": result, "data": STANDARD.encode_to_string(data)})
            })
            .collect();
        serde_json::json!({ "records": records })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn numbers_agree_by_value_and_keys_by_name_whatever_their_order() {
        let ours = answer(&[("Ok", r#"{"a":1e-5,"b":"x"}"#), ("Dropped", "1")]);
        let theirs = answer(&[("Ok", r#"{"b":"x","a":1e-05}"#), ("Dropped", "2")]);
        assert_eq!(difference(&ours, &theirs), Ok(0));
    }

    #[test]
    fn another_value_result_or_count_is_a_difference() {
        let ours = answer(&[("Ok", r#"{"a":1}"#)]);
        for theirs in [
            answer(&[("Ok", r#"{"a":2}"#)]),
            answer(&[("ProcessingFailed", r#"{"a":1}"#)]),
            answer(&[("Ok", r#"{"a":1}"#), ("Ok", r#"{"a":1}"#)]),
            answer(&[("Ok", "not json")]),
        ] {
            assert!(difference(&ours, &theirs).is_err());
        }
    }

    #[test]
    fn a_float_off_in_its_last_digit_is_counted_not_refused() {
        let ours = answer(&[("Ok", r#"{"a":-115.30689470477604,"b":[0.5]}"#)]);
        let theirs = answer(&[("Ok", r#"{"a":-115.30689470477603,"b":[0.5]}"#)]);
        assert_eq!(difference(&ours, &theirs), Ok(1));
        let off = answer(&[("Ok", r#"{"a":-115.3068947047,"b":[0.5]}"#)]);
        assert!(difference(&ours, &off).is_err());
    }
}
