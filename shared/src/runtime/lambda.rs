//! Runs a pipeline as a Lambda function: logging, settings checked at
//! start-up, then one invocation after another until Lambda stops the process.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::{error, info, info_span};

use crate::pipeline::{Context, InvalidEvent, MAX_RESPONSE_BYTES, Pipeline, Processed};
use crate::runtime::client::{Invocation, RuntimeClient};
use crate::runtime::logging;
use crate::settings::{Env, Flag, Integer, Setting, SettingError, SettingGroup, Settings, Text};
use crate::transforms::BuiltIn;
use crate::transforms::partition_keys::{PARTITION_KEYS, PartitionKeys};

/// `FIREHOSE_RESPONSE_LIMIT_BYTES`.
pub const RESPONSE_LIMIT: Setting<Integer> = Setting {
    name: "FIREHOSE_RESPONSE_LIMIT_BYTES",
    default: Some("6000000"),
    doc: "Largest response to return. Records past it come back `ProcessingFailed` with empty data \
          (Firehose keeps their original bytes under `processing-failed/`). Lambda's hard cap is 6291456. \
          When the smallest answers to a batch's records alone need more, an ERROR line gives both numbers \
          and that response is held under the hard cap instead.",
    // Under 64 KiB the limit no longer leaves headroom under the cap: it fails ordinary batches.
    parser: Integer {
        min: 65_536,
        max: MAX_RESPONSE_BYTES as u64,
    },
};

/// `FIREHOSE_DEADLINE_MARGIN_MS`.
pub const DEADLINE_MARGIN: Setting<Integer> = Setting {
    name: "FIREHOSE_DEADLINE_MARGIN_MS",
    default: Some("1000"),
    doc: "Time kept, before the invocation's deadline, to send the response. Records not processed by then \
          come back `ProcessingFailed` (reason: deadline) and the response goes out in time, even while a step \
          is stuck; then the process exits and Lambda starts a fresh one.",
    parser: Integer {
        min: 50,
        max: 60_000,
    },
};

/// `FIREHOSE_LOG_RECORD_VALUES`.
pub const LOG_RECORD_VALUES: Setting<Flag> = Setting {
    name: "FIREHOSE_LOG_RECORD_VALUES",
    default: Some("false"),
    doc: "Log failure reasons in full, record values included (`cannot index \"4111…\" with \"card\"`), \
          rather than with each value as its kind (`cannot index a string with \"card\"`). For debugging only: \
          whoever reads the logs then reads the records.",
    parser: Flag,
};

/// `FIREHOSE_METRICS`.
pub const METRICS: Setting<Flag> = Setting {
    name: "FIREHOSE_METRICS",
    default: Some("true"),
    doc: "Write each invocation's counts as a CloudWatch Embedded Metric Format line (metrics with no extra code).",
    parser: Flag,
};

/// `FIREHOSE_METRICS_NAMESPACE`.
pub const METRICS_NAMESPACE: Setting<Text> = Setting {
    name: "FIREHOSE_METRICS_NAMESPACE",
    default: Some("FirehoseTransform"),
    doc: "CloudWatch namespace of those metrics; the dimension is `FunctionName`.",
    parser: Text { max_len: 255 },
};

/// The settings every function has.
pub const COMMON_SETTINGS: SettingGroup = SettingGroup {
    prefix: "FIREHOSE_",
    settings: &[
        &RESPONSE_LIMIT,
        &DEADLINE_MARGIN,
        &LOG_RECORD_VALUES,
        &METRICS,
        &METRICS_NAMESPACE,
        &PARTITION_KEYS,
    ],
};

/// Where the per-invocation metrics go, if anywhere.
struct Metrics {
    namespace: String,
    function: String,
}

/// What the function runs each invocation with.
struct Served {
    pipeline: Arc<Pipeline>,
    margin: Duration,
    metrics: Option<Metrics>,
}

/// Serves one built-in step alone as the Lambda function `firehose-<name>`.
pub fn serve_built_in(step: &BuiltIn) -> ExitCode {
    serve(
        &format!("firehose-{}", step.name),
        &[step.settings],
        |settings| Ok(Pipeline::new().then(step.build(settings)?)),
    )
}

/// Serves invocations with the pipeline `build` makes from the settings.
///
/// `function` names the function in logs and metrics when Lambda does not;
/// `groups` are its settings (the common `FIREHOSE_` ones are added). A bad
/// setting is logged and reported to Lambda's init-error endpoint, and the
/// process exits before the first record.
pub fn serve<F>(function: &str, groups: &[&SettingGroup], build: F) -> ExitCode
where
    F: FnOnce(&Settings) -> Result<Pipeline, SettingError>,
{
    let env = Env::from_process();
    let log_problem = logging::init(&env).err();
    let client = match RuntimeClient::from_env(&env) {
        Ok(client) => client,
        Err(e) => {
            error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let function = env
        .get("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or(function)
        .to_owned();
    let started = log_problem
        .map_or(Ok(()), Err)
        .and_then(|()| start(env, groups, build, &function));
    let served = match started {
        Ok(started) => started,
        Err(e) => {
            error!(error_type = e.error_type(), error = %e, "start-up failed: bad setting");
            if let Err(report) = client.init_error(e.error_type(), &e.to_string()) {
                error!(error = %report, "could not report the start-up failure");
            }
            return ExitCode::FAILURE;
        }
    };
    info!(function, steps = %served.pipeline.step_names().join(","), "ready");
    loop {
        match client.next() {
            Ok(invocation) => {
                if let Abandoned::Yes = handle(&served, &client, invocation) {
                    // The batch's thread may be stuck in a step for ever: a fresh process is the only cure.
                    error!(
                        "a step was still running at the deadline; exiting so that Lambda starts a fresh process"
                    );
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                error!(error = %e, "lost the Runtime API");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// Whether an invocation left its batch's thread running.
enum Abandoned {
    Yes,
    No,
}

fn start<F>(
    env: Env,
    groups: &[&SettingGroup],
    build: F,
    function: &str,
) -> Result<Served, SettingError>
where
    F: FnOnce(&Settings) -> Result<Pipeline, SettingError>,
{
    let mut all = vec![&COMMON_SETTINGS];
    all.extend_from_slice(groups);
    let settings = Settings::load(env, &all)?;
    let limit = settings.get(&RESPONSE_LIMIT)?;
    let metrics = match settings.get(&METRICS)? {
        true => Some(Metrics {
            namespace: settings.get(&METRICS_NAMESPACE)?,
            function: function.to_owned(),
        }),
        false => None,
    };
    let mut pipeline = build(&settings)?;
    // Keys come from the record as the function's own steps left it.
    if let Some(program) = settings.optional(&PARTITION_KEYS)? {
        pipeline = pipeline.then(PartitionKeys::new(program));
    }
    let pipeline = pipeline
        .with_response_limit(usize::try_from(limit).unwrap_or(MAX_RESPONSE_BYTES))
        .with_record_values_in_logs(settings.get(&LOG_RECORD_VALUES)?);
    Ok(Served {
        pipeline: Arc::new(pipeline),
        margin: Duration::from_millis(settings.get(&DEADLINE_MARGIN)?),
        metrics,
    })
}

fn handle(served: &Served, client: &RuntimeClient, invocation: Invocation) -> Abandoned {
    let trace_id = invocation.trace_id.as_deref().unwrap_or("");
    let span = info_span!("invocation", request_id = %invocation.request_id, trace_id);
    let _entered = span.enter();
    let bytes_in = invocation.payload.len();
    let context = Context {
        cutoff: invocation
            .deadline
            .map(|deadline| cutoff(deadline, served.margin)),
        trace_id: invocation.trace_id.clone(),
    };
    let ran = served
        .pipeline
        .process_by(Arc::new(invocation.payload), context);
    let mut abandoned = Abandoned::No;
    let reply = match ran {
        Ok(Ok(processed)) => {
            log_summary(&processed, served.metrics.as_ref());
            if processed.abandoned {
                abandoned = Abandoned::Yes;
            }
            client.respond(&invocation.request_id, &processed.response)
        }
        Ok(Err(invalid)) => {
            error!(error_type = InvalidEvent::ERROR_TYPE, error = %invalid, bytes_in, "invocation failed");
            client.fail(
                &invocation.request_id,
                InvalidEvent::ERROR_TYPE,
                &invalid.to_string(),
            )
        }
        Err(panicked) => {
            error!(error_type = "Panic", error = %panicked, "invocation failed");
            client.fail(&invocation.request_id, "Panic", &panicked)
        }
    };
    if let Err(e) = reply {
        error!(error = %e, "could not return the invocation's result");
    }
    abandoned
}

/// When to answer for the records not yet processed: `margin` before the
/// deadline, on this process's monotonic clock.
fn cutoff(deadline: SystemTime, margin: Duration) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left.saturating_sub(margin)
}

fn log_summary(processed: &Processed, metrics: Option<&Metrics>) {
    let s = &processed.summary;
    info!(
        invocation_id = processed.invocation_id.as_deref().unwrap_or(""),
        records = s.records,
        ok = s.ok,
        dropped = s.dropped,
        failed = s.failed,
        overflowed = s.overflowed,
        bytes_in = s.bytes_in,
        bytes_out = s.bytes_out,
        late = s.late,
        duration_ms = s.duration.as_micros() as f64 / 1000.0,
        "invocation summary"
    );
    if let Some(metrics) = metrics {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let line = s.emf(&metrics.namespace, &metrics.function, now);
        // EMF must be a log line of its own; a failed write to stdout has nowhere better to go.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_defaults_read_with_their_own_parsers() {
        for setting in COMMON_SETTINGS.settings {
            assert!(setting.default_is_valid(), "{}", setting.name());
        }
    }

    #[test]
    fn start_applies_the_common_settings() {
        let env = Env::from_pairs([
            ("FIREHOSE_METRICS", "false"),
            ("FIREHOSE_RESPONSE_LIMIT_BYTES", "500000"),
            ("FIREHOSE_DEADLINE_MARGIN_MS", "250"),
        ]);
        let served = start(env, &[], |_| Ok(Pipeline::new()), "f").unwrap();
        assert!(served.metrics.is_none());
        assert_eq!(served.margin, Duration::from_millis(250));
        let env = Env::from_pairs([("FIREHOSE_RESPONSE_LIMIT_BYTES", "7000000")]);
        let err = start(env, &[], |_| Ok(Pipeline::new()), "f").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("FIREHOSE_RESPONSE_LIMIT_BYTES=\"7000000\" is invalid")
        );
    }

    #[test]
    fn the_cutoff_keeps_the_margin_before_the_deadline() {
        let margin = Duration::from_millis(1000);
        let soon = cutoff(SystemTime::now() + Duration::from_secs(10), margin);
        let left = soon.duration_since(Instant::now());
        assert!(
            left > Duration::from_millis(8_500) && left <= Duration::from_secs(9),
            "{left:?}"
        );
        // A deadline already past, or inside the margin: answer now.
        let past = cutoff(SystemTime::now() - Duration::from_secs(1), margin);
        assert!(past <= Instant::now());
    }

    #[test]
    fn partition_keys_run_after_the_function_s_steps() {
        let env = Env::from_pairs([("FIREHOSE_PARTITION_KEYS", "{a: .a}")]);
        let served = start(env, &[], |_| Ok(Pipeline::new()), "f").unwrap();
        assert_eq!(served.pipeline.step_names(), ["partition-keys"]);
        let env = Env::from_pairs([("FIREHOSE_PARTITION_KEYS", "{a: .a")]);
        let err = start(env, &[], |_| Ok(Pipeline::new()), "f").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("FIREHOSE_PARTITION_KEYS=\"{a: .a\" is invalid: expected"),
            "{err}"
        );
    }
}
