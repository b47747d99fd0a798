//! Seeded Firehose events of generated JSON access records, the same bytes
//! for the same seed: nested sections, mixed-case and dotted keys, timestamps
//! in six forms, some non-ASCII text, and about 2% bad records.

use base64_simd::STANDARD;
use serde_json::{Value, json};

/// One generated Firehose event.
pub struct Batch {
    /// What it is called in the tables: the buffer size it stands for.
    pub name: &'static str,
    /// The event, as Firehose sends it to the function.
    pub event: Vec<u8>,
    pub records: usize,
    /// The records' decoded bytes, all together.
    pub record_bytes: usize,
}

/// The two buffer sizes measured: Firehose's default 1 MB buffer hint (a
/// ≈1.4 MB event, the records being base64 in it) and 3 MB, the largest whose
/// event stays under Lambda's 6 MB request limit (≈4.2 MB).
pub const BUFFERS: [(&str, usize); 2] = [("1MB", 1_000_000), ("3MB", 3_000_000)];

/// The seed used when none is given.
pub const SEED: u64 = 20_261_203;

/// The `i`th record of a kind, from the batch's random numbers.
pub type Generator = fn(&mut fastrand::Rng, usize) -> Vec<u8>;

/// An event holding `buffer_bytes` of JSON access records, as a buffer of that
/// size hands them to the function.
pub fn batch(name: &'static str, buffer_bytes: usize, seed: u64) -> Batch {
    batch_of(name, buffer_bytes, seed, record)
}

/// The largest event a batch makes: Lambda takes requests of up to 6 MiB, and
/// Firehose splits a buffer of many small records (short log lines, which
/// base64 and the record ids more than double) into invocations under it.
pub const MAX_EVENT_BYTES: usize = 6_000_000;

/// An event holding `buffer_bytes` of the records `generate` makes, or as many
/// as fit in [`MAX_EVENT_BYTES`].
pub fn batch_of(name: &'static str, buffer_bytes: usize, seed: u64, generate: Generator) -> Batch {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut payloads, mut record_bytes) = (Vec::new(), 0);
    // The event's opening and closing, then each record's entry and its comma.
    let mut event_bytes = event(&[]).len();
    while record_bytes < buffer_bytes {
        let payload = generate(&mut rng, payloads.len());
        event_bytes += entry(payloads.len(), &payload).to_string().len() + 1;
        if event_bytes > MAX_EVENT_BYTES {
            break;
        }
        record_bytes += payload.len();
        payloads.push(payload);
    }
    Batch {
        name,
        event: event(&payloads),
        records: payloads.len(),
        record_bytes,
    }
}

/// A Firehose event of these records, as the bench stream sends it.
pub fn event(payloads: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| entry(i, payload))
        .collect();
    json!({
        "invocationId": "firehose-bench",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench-stream",
        "region": "us-east-1",
        "records": records,
    })
    .to_string()
    .into_bytes()
}

/// The `i`th record's entry in the event.
fn entry(i: usize, payload: &[u8]) -> Value {
    json!({
        "recordId": format!("{i:056}"),
        "approximateArrivalTimestamp": 1_714_566_600_000_u64 + i as u64,
        "data": STANDARD.encode_to_string(payload),
    })
}

/// One record: a JSON access event, or one time in fifty something no
/// function can normalise.
pub fn record(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let at = timestamp(rng);
    if rng.u8(..100) >= 2 {
        return access_event(rng, i, at).to_string().into_bytes();
    }
    match rng.u8(..5) {
        0 => b"GET /index.html 200 - not JSON at all".to_vec(),
        1 => {
            let whole = access_event(rng, i, at).to_string().into_bytes();
            whole[..whole.len() / 2].to_vec()
        }
        2 => br#"[{"RequestId":"req-in-an-array"}]"#.to_vec(),
        3 => {
            // Latin-1 where UTF-8 belongs, inside the first key.
            let mut bytes = access_event(rng, i, at).to_string().into_bytes();
            bytes.splice(2..2, [0xFC]);
            bytes
        }
        _ => access_event(rng, i, json!("yesterday"))
            .to_string()
            .into_bytes(),
    }
}

/// One access event; 24 keys once flattened.
fn access_event(rng: &mut fastrand::Rng, i: usize, timestamp: Value) -> Value {
    let cities = ["München", "東京", "Lisboa", "São Paulo", "Kyiv", "Austin"];
    let paths = [
        "/api/v1/orders",
        "/healthz",
        "/static/app.js",
        "/api/v1/users/42",
        "/login",
    ];
    let status = [200, 201, 304, 404, 500][rng.usize(..5)];
    let level = ["INFO", "WARN", "DEBUG", "ERROR"][rng.usize(..4)];
    let method = ["GET", "POST", "PUT"][rng.usize(..3)];
    let pool = ["blue", "green"][rng.usize(..2)];
    json!({
        "RequestId": format!("req-{i:08}-{:016x}", rng.u64(..)),
        "Timestamp": timestamp,
        "Level": level,
        "HTTP": {
            "Method": method,
            "Path": paths[rng.usize(..paths.len())],
            "Status.Code": status,
            "Headers": {
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0",
                "X.Forwarded.For": format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(..)),
            },
        },
        "Client": {"Geo": {"City": cities[rng.usize(..cities.len())], "Lat": rng.f64() * 180.0 - 90.0, "Lon": rng.f64() * 360.0 - 180.0}},
        "Response": {"Bytes": rng.u64(..5_000_000), "Duration.Ms": rng.f64() * 900.0},
        "User": {"Id": rng.u64(..1_000_000), "Session": {"Id": format!("{:032x}", rng.u128(..)), "New": rng.bool()}},
        "Trace": {"Id": format!("1-{:08x}-{:024x}", rng.u32(..), rng.u128(..) >> 32)},
        "Upstream": {"Pool": {"Name": pool}, "Host": format!("10.0.{}.{}:8080", rng.u8(..), rng.u8(..))},
        "Error": {"Code": if status >= 500 { json!("E503") } else { Value::Null }},
        "Tags": (0..rng.usize(0..5)).map(|t| format!("tag-{t}")).collect::<Vec<_>>(),
        "Attributes": {"Feature.Flags": {"Dark.Mode": rng.bool(), "Beta": rng.bool()}, "Notes": "x".repeat(rng.usize(0..600))},
    })
}

/// A moment of one day, in one of the forms producers send.
fn timestamp(rng: &mut fastrand::Rng) -> Value {
    let millis = 1_714_566_600_000_i64 + rng.i64(0..86_400_000);
    let (seconds, fraction) = (millis / 1000, millis % 1000);
    let (hour, minute, second) = ((seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60);
    match rng.u8(..6) {
        0 => json!(seconds),
        1 => json!(millis),
        2 => json!(millis as f64 / 1000.0),
        3 => json!(format!(
            "2024-05-01T{hour:02}:{minute:02}:{second:02}.{fraction:03}Z"
        )),
        4 => json!(format!(
            "2024-05-01T{:02}:{minute:02}:{second:02}+02:00",
            (hour + 2) % 24
        )),
        _ => json!(format!("2024-05-01 {hour:02}:{minute:02}:{second:02}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_event_and_another_seed_another() {
        let (a, b, c) = (
            batch("a", 50_000, 1),
            batch("b", 50_000, 1),
            batch("c", 50_000, 2),
        );
        assert_eq!(a.event, b.event);
        assert_ne!(a.event, c.event);
    }

    #[test]
    fn an_event_of_small_records_stops_under_lambda_s_request_limit() {
        let short: Generator = |_, _| b"a short log line".to_vec();
        let capped = batch_of("3MB", 3_000_000, SEED, short);
        assert!(
            capped.event.len() <= MAX_EVENT_BYTES,
            "{}",
            capped.event.len()
        );
        assert!(
            capped.event.len() > MAX_EVENT_BYTES - 200,
            "{}",
            capped.event.len()
        );
        assert!(capped.record_bytes < 3_000_000);
    }

    #[test]
    fn a_buffer_gives_an_event_of_its_size_with_some_bad_records() {
        let one = batch("1MB", 1_000_000, SEED);
        assert!((1_000_000..1_010_000).contains(&one.record_bytes));
        assert!(
            (1_300_000..1_500_000).contains(&one.event.len()),
            "{}",
            one.event.len()
        );
        let mut rng = fastrand::Rng::with_seed(SEED);
        let bad = (0..10_000)
            .map(|i| record(&mut rng, i))
            .filter(|r| !matches!(serde_json::from_slice::<Value>(r), Ok(Value::Object(o)) if o["Timestamp"] != "yesterday"))
            .count();
        assert!((150..250).contains(&bad), "{bad} bad records in 10,000");
    }
}
