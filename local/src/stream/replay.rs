//! Replay: the records of error objects (`processing-failed/` and the other
//! error prefixes) put again, each with its bytes (`rawData`) and arrival
//! time, where its error says: a record that failed before or in the function
//! (`errorCode`) enters as if its producer had sent it once more; a
//! `format-conversion-failed` record (`lastErrorCode`), which holds what the
//! function made of it, goes straight to conversion. Objects may be
//! compressed in any `CompressionFormat`; both spellings of the ARN field (`lambdaARN`, the docs'
//! `lambdaArn`) are read. They are files, or objects of an S3 API.

use std::io::Read;
use std::path::PathBuf;

use base64::Engine;
use serde::Deserialize;

use super::producer::{self, Attempt, Entry, InputError, MAX_RECORD_BYTES, Put};
use crate::lines::{Line, MAX_LINE_BYTES, read_capped};
use crate::sink::{compression, store};

/// One line of an error object; other fields (`lambdaARN`, ...) are not needed to replay it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLine {
    raw_data: String,
    arrival_timestamp: Option<i64>,
    /// Only `format-conversion-failed` lines have it (theirs is `lastErrorCode`, not `errorCode`).
    last_error_code: Option<String>,
}

/// An error object to read: its name in messages, and how to open it when it is reached.
pub struct ErrorObject {
    pub name: String,
    pub open: Box<dyn FnOnce() -> std::io::Result<Box<dyn Read>>>,
}

/// Every file under `paths` (files, or folders read recursively, in name order).
pub fn files(paths: &[PathBuf]) -> Result<Vec<ErrorObject>, String> {
    let mut found = Vec::new();
    for path in paths {
        store::files_under(path, &mut found)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    Ok(found
        .into_iter()
        .map(|path| ErrorObject {
            name: path.display().to_string(),
            open: Box::new(move || Ok(Box::new(std::fs::File::open(path)?) as Box<dyn Read>)),
        })
        .collect())
}

/// Every object under `s3://<location>` (a bucket and a prefix), in key order, each read when it is reached.
#[cfg(feature = "s3")]
pub fn s3_objects(location: &str, endpoint: Option<&str>) -> Result<Vec<ErrorObject>, String> {
    use std::cell::RefCell;
    use std::rc::Rc;
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    let api = crate::sink::s3::S3Api::connect(endpoint)?;
    let api = Rc::new(RefCell::new(api));
    let keys = api.borrow_mut().list(bucket, prefix)?;
    if keys.is_empty() {
        return Err(format!("s3://{location}: no objects there"));
    }
    Ok(keys
        .into_iter()
        .map(|key| {
            let (api, bucket) = (api.clone(), bucket.to_owned());
            ErrorObject {
                name: format!("s3://{bucket}/{key}"),
                open: Box::new(move || {
                    let bytes = api
                        .borrow_mut()
                        .get(&bucket, &key)
                        .map_err(std::io::Error::other)?;
                    Ok(Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read>)
                }),
            }
        })
        .collect())
}

/// The records of every error object in `objects`, each opened when it is reached.
pub fn all_records(objects: Vec<ErrorObject>) -> impl Iterator<Item = Result<Attempt, InputError>> {
    objects.into_iter().flat_map(
        |object| -> Box<dyn Iterator<Item = Result<Attempt, InputError>>> {
            match records(object) {
                Ok(records) => Box::new(records),
                Err(error) => Box::new(std::iter::once(Err(error))),
            }
        },
    )
}

/// The records of one error object, read line by line.
fn records(
    object: ErrorObject,
) -> Result<impl Iterator<Item = Result<Attempt, InputError>> + use<>, InputError> {
    let name = object.name;
    let io = |error| InputError::Io {
        source_name: name.clone(),
        error,
    };
    let mut reader = compression::reader((object.open)().map_err(io)?).map_err(io)?;
    let mut line_number = 0u64;
    let mut buffer = Vec::new();
    Ok(std::iter::from_fn(move || {
        loop {
            let line = match read_capped(&mut reader, &mut buffer, MAX_LINE_BYTES) {
                Ok(None) => return None,
                Ok(Some(line)) => line,
                Err(error) => {
                    return Some(Err(InputError::Io {
                        source_name: name.clone(),
                        error,
                    }));
                }
            };
            line_number += 1;
            let malformed = |message: String| InputError::Malformed {
                source_name: name.clone(),
                line: line_number,
                message,
            };
            if let Line::TooLong { bytes } = line {
                return Some(Err(malformed(format!(
                    "a line of {bytes} bytes, over the {MAX_LINE_BYTES} firehose-local reads"
                ))));
            }
            if buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(read_line(&buffer).map_err(malformed));
        }
    }))
}

fn read_line(line: &[u8]) -> Result<Attempt, String> {
    let error: ErrorLine = serde_json::from_slice(line)
        .map_err(|e| format!("not an error object line (rawData, ...): {e}"))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(error.raw_data.as_bytes())
        .map_err(|e| format!("rawData is not base64: {e}"))?;
    if data.len() > MAX_RECORD_BYTES && error.last_error_code.is_none() {
        return Ok(Attempt::Refused(format!(
            "rawData of {} bytes, over PutRecord's {MAX_RECORD_BYTES}",
            data.len()
        )));
    }
    let arrival_ms = error
        .arrival_timestamp
        .map(producer::arrival_in_range)
        .transpose()?;
    Ok(Attempt::Put(Put {
        data,
        partition_key: None,
        arrival_ms,
        kinesis: None,
        entry: match error.last_error_code {
            Some(_) => Entry::Conversion,
            None => Entry::Source,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_arn_spellings_and_gzip_are_read() {
        let dir = std::env::temp_dir().join(format!("replay-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let lines = "{\"rawData\":\"QQ==\",\"errorCode\":\"Lambda.ProcessingFailedStatus\",\"arrivalTimestamp\":5,\"lambdaARN\":\"x\"}\n\n\
                     {\"rawData\":\"Qg==\",\"lambdaArn\":\"x\"}\n";
        std::fs::write(dir.join("a/plain"), lines).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"{\"rawData\":\"Qw==\"}\n{\"nope\":1}\n").unwrap();
        std::fs::write(dir.join("b.gz"), gz.finish().unwrap()).unwrap();
        let found = files(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<&str> = found.iter().map(|o| o.name.as_str()).collect();
        let expected = [dir.join("a/plain"), dir.join("b.gz")].map(|p| p.display().to_string());
        assert_eq!(names, expected);
        let got: Vec<Result<Attempt, InputError>> = all_records(found).collect();
        let data: Vec<Vec<u8>> = got
            .iter()
            .filter_map(|a| match a {
                Ok(Attempt::Put(put)) => Some(put.data.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(data, [b"A".to_vec(), b"B".to_vec(), b"C".to_vec()]);
        assert!(matches!(
            &got[0],
            Ok(Attempt::Put(Put {
                arrival_ms: Some(5),
                ..
            }))
        ));
        assert!(
            got[3].as_ref().unwrap_err().to_string().contains("b.gz:2"),
            "{:?}",
            got[3]
        );
    }
}
