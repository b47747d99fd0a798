//! Invoking the function for one batch as Firehose does: the real binary
//! through the emulated Runtime API, retried `NumberOfRetries` times when the
//! invocation fails (crash, timeout, error, a response Lambda refuses), and
//! the answer judged record by record with AWS's error codes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use crate::answer::{Answer, AnsweredRecord};
use crate::check;
use crate::runtime_api::Reply;
use crate::sink::error_record::codes;
use crate::{LocalError, LocalFunction};

use super::event::Record;

/// What became of one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Ok {
        data: Vec<u8>,
        partition_keys: BTreeMap<String, String>,
    },
    Dropped,
    Failed {
        code: &'static str,
    },
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One per record, in order.
    pub fates: Vec<Fate>,
    /// Invocations made (1 + retries used).
    pub attempts: u32,
    /// Why each failed invocation failed.
    pub failures: Vec<String>,
    /// What Firehose rejected or a careful function would not do, as the checker says it.
    pub findings: Vec<String>,
}

/// What the invocations of one batch gave.
pub struct Invoked {
    /// The answer, or none when every attempt failed.
    pub response: Option<Vec<u8>>,
    /// Invocations made (1 + retries used).
    pub attempts: u32,
    /// Why each failed invocation failed.
    pub failures: Vec<String>,
}

/// What became of each record of a batch, from what its invocations gave: the
/// answer read once and judged against the ids the batch holds.
pub fn judge(records: &[Record], invoked: Invoked) -> Outcome {
    let Invoked {
        response,
        attempts,
        failures,
    } = invoked;
    let Some(response) = response else {
        return Outcome {
            fates: vec![
                Fate::Failed {
                    code: codes::FUNCTION_ERROR
                };
                records.len()
            ],
            attempts,
            failures,
            findings: Vec::new(),
        };
    };
    let answer = Answer::parse(&response);
    let asked: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
    let report = check::judge_answer(Ok(&asked), response.len(), answer.as_ref());
    Outcome {
        fates: fates(records, answer.ok(), &report),
        attempts,
        failures,
        findings: report.lines(),
    }
}

/// The function, started when first needed and again after it dies.
pub struct Invoker {
    binary: PathBuf,
    environment: Vec<(String, String)>,
    timeout: Duration,
    function: Option<LocalFunction>,
}

impl Invoker {
    pub fn new(binary: PathBuf, environment: Vec<(String, String)>, timeout: Duration) -> Self {
        Invoker {
            binary,
            environment,
            timeout,
            function: None,
        }
    }

    /// Invokes the function with `event` until it answers with a response Lambda
    /// takes, or `1 + retries` invocations have failed.
    pub fn invoke(&mut self, event: &[u8], retries: u32) -> Invoked {
        let mut failures = Vec::new();
        for attempt in 1..=retries.saturating_add(1) {
            match self.attempt(event) {
                // Lambda refuses it (413): the only rejection Firehose retries, known by its size alone.
                Ok(response) => match check::oversized(response.len()) {
                    Some(why) => failures.push(format!("{}: {why}", codes::FUNCTION_ERROR)),
                    None => {
                        return Invoked {
                            response: Some(response),
                            attempts: attempt,
                            failures,
                        };
                    }
                },
                Err(why) => failures.push(why),
            }
        }
        Invoked {
            response: None,
            attempts: retries.saturating_add(1),
            failures,
        }
    }

    /// One invocation: the response, or why there is none.
    fn attempt(&mut self, event: &[u8]) -> Result<Vec<u8>, String> {
        let function = match &mut self.function {
            Some(function) => function,
            slot => {
                let mut started = LocalFunction::start(&self.binary, &self.environment)
                    .map_err(|e| e.to_string())?;
                started.timeout = self.timeout;
                slot.insert(started)
            }
        };
        let reply = function.invoke(event);
        match reply {
            Ok(Reply::Response(response)) => Ok(response),
            Ok(Reply::Error {
                error_type,
                message,
            }) => Err(format!(
                "the function returned an error: {error_type}: {message}"
            )),
            Ok(Reply::InitError {
                error_type,
                message,
            }) => {
                self.function = None;
                Err(format!(
                    "the function failed to start: {error_type}: {message}"
                ))
            }
            Err(error) => {
                self.function = None;
                Err(match error {
                    LocalError::Timeout => {
                        format!("the function timed out after {} s", self.timeout.as_secs())
                    }
                    LocalError::Exited => {
                        "the function process exited without answering (a crash)".to_owned()
                    }
                    other => other.to_string(),
                })
            }
        }
    }
}

/// Each record's fate in an answer Firehose took (no retried rejection).
fn fates(records: &[Record], answer: Option<Answer>, report: &check::Report) -> Vec<Fate> {
    if let Some(whole) = report.rejections.iter().find(|r| r.whole_batch) {
        let code = codes::of(whole.code);
        return vec![Fate::Failed { code }; records.len()];
    }
    let Some(answer) = answer else {
        return vec![
            Fate::Failed {
                code: codes::JSON_PROCESSING
            };
            records.len()
        ];
    };
    let in_order = answer.records.len() == records.len()
        && records
            .iter()
            .zip(&answer.records)
            .all(|(r, a)| a.record_id.as_deref() == Some(r.record_id.as_str()));
    if in_order {
        return answer.records.into_iter().map(fate).collect();
    }
    // Matched by id, as Firehose matches them.
    let mut by_id: HashMap<String, VecDeque<AnsweredRecord>> = HashMap::new();
    for answered in answer.records {
        if let Some(id) = answered.record_id.clone() {
            by_id.entry(id).or_default().push_back(answered);
        }
    }
    records
        .iter()
        .map(|record| {
            match by_id
                .get_mut(record.record_id.as_str())
                .and_then(VecDeque::pop_front)
            {
                Some(answered) => fate(answered),
                None => Fate::Failed {
                    code: codes::MISSING_RECORD_ID,
                },
            }
        })
        .collect()
}

/// The fate an answered record gives its record.
fn fate(mut answered: AnsweredRecord) -> Fate {
    match answered.result.as_deref() {
        Some("Ok") => Fate::Ok {
            // The checker has already refused undecodable base64.
            partition_keys: answered
                .partition_keys
                .take()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k, value)
                })
                .collect(),
            data: answered.into_bytes(),
        },
        Some("Dropped") => Fate::Dropped,
        _ => Fate::Failed {
            code: codes::PROCESSING_FAILED,
        },
    }
}
