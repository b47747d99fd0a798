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
use super::partition;

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
        /// The `errorMessage` Firehose writes with it.
        message: &'static str,
    },
}

impl Fate {
    /// A record failed by an answer Firehose read, with the message it writes
    /// for `code` (the function's own `ProcessingFailed`, or the checker's rejection).
    fn failed(code: &'static str) -> Fate {
        Fate::Failed {
            code,
            message: codes::rejection_message(code),
        }
    }
}

/// What became of a batch: Firehose's verdict on its invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// One per record, in order.
    pub fates: Vec<Fate>,
    /// Invocations made (1 + retries used).
    pub attempts: u32,
    /// Why each failed invocation failed.
    pub failures: Vec<String>,
    /// What Firehose rejected or a careful function would not do, as the checker says it.
    pub findings: Vec<String>,
    /// Which step dropped or failed a record, by record id, as the function's
    /// logs tell it (`--trace` only).
    pub told: HashMap<String, String>,
    /// Function processes started for these invocations.
    pub cold_starts: u32,
}

/// What the invocations of one batch gave.
pub struct Invoked {
    /// The answer, or none when every attempt failed.
    pub response: Option<Vec<u8>>,
    /// Invocations made (1 + retries used).
    pub attempts: u32,
    /// Why each failed invocation failed.
    pub failures: Vec<String>,
    /// The log lines of the answering invocation, when asked for.
    pub logs: Vec<String>,
    /// Function processes started for these invocations.
    pub cold_starts: u32,
}

/// What became of each record of a batch, from what its invocations gave: the
/// answer read once and judged against the ids the batch holds.
pub fn verdict(records: &[Record], invoked: Invoked) -> Verdict {
    let Invoked {
        response,
        attempts,
        failures,
        logs,
        cold_starts,
    } = invoked;
    let told = told(&logs);
    let Some(response) = response else {
        let failed = Fate::Failed {
            code: codes::FUNCTION_ERROR,
            message: codes::message(codes::FUNCTION_ERROR),
        };
        return Verdict {
            fates: vec![failed; records.len()],
            attempts,
            failures,
            findings: Vec::new(),
            told,
            cold_starts,
        };
    };
    let answer = Answer::parse(&response);
    let asked: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
    let report = check::judge_answer(Ok(&asked), response.len(), answer.as_ref());
    Verdict {
        fates: fates(records, answer.ok(), &report),
        attempts,
        failures,
        findings: report.lines(),
        told,
        cold_starts,
    }
}

/// What the function says of its records: our functions log each record they
/// fail (WARN) and, at DEBUG, each they drop, with its id and the step.
fn told(logs: &[String]) -> HashMap<String, String> {
    #[derive(serde::Deserialize)]
    struct Line {
        message: String,
        record_id: String,
        step: String,
        reason: Option<String>,
    }
    logs.iter()
        .filter_map(|line| serde_json::from_str::<Line>(line).ok())
        .filter_map(|line| {
            let told = match (line.message.as_str(), line.reason) {
                ("record dropped", _) => format!("dropped by step {}", line.step),
                ("record failed", Some(reason)) => {
                    format!("failed by step {}: {reason}", line.step)
                }
                _ => return None,
            };
            Some((line.record_id, told))
        })
        .collect()
}

/// How long to wait for an invocation's summary line once its answer is in:
/// our functions write it before answering, so it is normally there already.
const SUMMARY_WAIT: Duration = Duration::from_millis(200);

/// The function, started when first needed and again after it dies.
pub struct Invoker {
    binary: PathBuf,
    environment: Vec<(String, String)>,
    timeout: Duration,
    function: Option<LocalFunction>,
    keep_logs: bool,
    /// Function processes started so far: Lambda's cold starts.
    cold_starts: u32,
}

impl Invoker {
    pub fn new(binary: PathBuf, environment: Vec<(String, String)>, timeout: Duration) -> Self {
        Invoker {
            binary,
            environment,
            timeout,
            function: None,
            keep_logs: false,
            cold_starts: 0,
        }
    }

    /// Runs the function at DEBUG and hands on each answering invocation's log
    /// lines, so that [`verdict`] can tell which step dropped or failed a record.
    pub fn keeping_logs(mut self) -> Self {
        self.environment
            .push(("AWS_LAMBDA_LOG_LEVEL".to_owned(), "DEBUG".to_owned()));
        self.keep_logs = true;
        self
    }

    /// Invokes the function with `event` (whose `invocationId` is
    /// `invocation_id`) until it answers with a response Lambda takes, or
    /// `1 + retries` invocations have failed.
    pub fn invoke(&mut self, invocation_id: &str, event: &[u8], retries: u32) -> Invoked {
        let mut failures = Vec::new();
        let started = self.cold_starts;
        for attempt in 1..=retries.saturating_add(1) {
            let answered = self.attempt(event);
            let logs = self.logs_of(invocation_id);
            match answered {
                // Lambda refuses it (413): the only rejection Firehose retries, known by its size alone.
                Ok(response) => match check::oversized(response.len()) {
                    Some(why) => failures.push(format!("{}: {why}", codes::FUNCTION_ERROR)),
                    None => {
                        return Invoked {
                            response: Some(response),
                            attempts: attempt,
                            failures,
                            logs,
                            cold_starts: self.cold_starts - started,
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
            logs: Vec::new(),
            cold_starts: self.cold_starts - started,
        }
    }

    /// The log lines of the invocation just made, through its summary line,
    /// when they are kept; otherwise they are let go, so a long run holds none.
    fn logs_of(&self, invocation_id: &str) -> Vec<String> {
        let Some(function) = &self.function else {
            return Vec::new();
        };
        if !self.keep_logs {
            function.take_logs();
            return Vec::new();
        }
        let summary = format!("\"invocation_id\":\"{invocation_id}\"");
        function.take_logs_through(&summary, SUMMARY_WAIT)
    }

    /// One invocation: the response, or why there is none. A function that
    /// exited after its last invocation is started afresh for this one, as
    /// Lambda starts a fresh environment, and no attempt is lost; once only,
    /// so a function that never takes an invocation uses up its attempts.
    fn attempt(&mut self, event: &[u8]) -> Result<Vec<u8>, String> {
        match self.attempt_once(event) {
            Err(LocalError::ExitedBeforeTaking) => self.attempt_once(event),
            other => other,
        }
        .map_err(|error| match error {
            LocalError::Timeout => {
                format!("the function timed out after {} s", self.timeout.as_secs())
            }
            LocalError::Exited | LocalError::ExitedBeforeTaking => {
                "the function process exited without answering (a crash)".to_owned()
            }
            other => other.to_string(),
        })
    }

    fn attempt_once(&mut self, event: &[u8]) -> Result<Vec<u8>, LocalError> {
        let function = match &mut self.function {
            Some(function) => function,
            slot => {
                let mut started = LocalFunction::start(&self.binary, &self.environment)?;
                started.timeout = self.timeout;
                self.cold_starts += 1;
                slot.insert(started)
            }
        };
        let reply = function.invoke(event);
        match reply {
            Ok(Reply::Response(response)) => Ok(response),
            Ok(Reply::Error {
                error_type,
                message,
            }) => Err(LocalError::Function(format!(
                "the function returned an error: {error_type}: {message}"
            ))),
            Ok(Reply::InitError {
                error_type,
                message,
            }) => {
                self.function = None;
                Err(LocalError::Function(format!(
                    "the function failed to start: {error_type}: {message}"
                )))
            }
            Err(error) => {
                self.function = None;
                Err(error)
            }
        }
    }
}

/// Each record's fate in an answer Firehose took (no retried rejection).
fn fates(records: &[Record], answer: Option<Answer>, report: &check::Report) -> Vec<Fate> {
    if let Some(whole) = report.rejections.iter().find(|r| r.whole_batch) {
        return vec![Fate::failed(codes::of(whole.code)); records.len()];
    }
    let Some(answer) = answer else {
        return vec![Fate::failed(codes::JSON_PROCESSING); records.len()];
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
                None => Fate::failed(codes::MISSING_RECORD_ID),
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
                .filter_map(|(k, v)| Some((k, partition::key_value(&v)?)))
                .collect(),
            data: answered.into_bytes(),
        },
        Some("Dropped") => Fate::Dropped,
        _ => Fate::failed(codes::PROCESSING_FAILED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn told_reads_the_functions_dropped_and_failed_lines_and_nothing_else() {
        let logs = [
            r#"{"level":"DEBUG","message":"record dropped","record_id":"a","step":"filter"}"#,
            r#"{"level":"WARN","message":"record failed","record_id":"b","step":"validate","reason":"missing id"}"#,
            r#"{"level":"INFO","message":"invocation summary","invocation_id":"x"}"#,
            r#"{"level":"WARN","message":"record failed","record_id":"c","step":"decode"}"#,
            "not json at all",
        ]
        .map(String::from);
        let told = told(&logs);
        assert_eq!(told.len(), 2);
        assert_eq!(told["a"], "dropped by step filter");
        assert_eq!(told["b"], "failed by step validate: missing id");
    }
}
