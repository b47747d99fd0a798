//! Runs a pipeline as a Lambda function: logging, settings checked at
//! start-up, then one invocation after another until Lambda stops the process.

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{error, info, info_span};

use crate::pipeline::panic;
use crate::pipeline::{InvalidEvent, MAX_RESPONSE_BYTES, Pipeline, Processed};
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
          (Firehose keeps their original bytes under `processing-failed/`). Lambda's hard cap is 6291456.",
    parser: Integer {
        min: 1_000,
        max: MAX_RESPONSE_BYTES as u64,
    },
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
    let (pipeline, metrics) = match started {
        Ok(started) => started,
        Err(e) => {
            error!(error_type = e.error_type(), error = %e, "start-up failed: bad setting");
            if let Err(report) = client.init_error(e.error_type(), &e.to_string()) {
                error!(error = %report, "could not report the start-up failure");
            }
            return ExitCode::FAILURE;
        }
    };
    info!(function, steps = %pipeline.step_names().join(","), "ready");
    loop {
        match client.next() {
            Ok(invocation) => handle(&pipeline, &client, &invocation, metrics.as_ref()),
            Err(e) => {
                error!(error = %e, "lost the Runtime API");
                return ExitCode::FAILURE;
            }
        }
    }
}

fn start<F>(
    env: Env,
    groups: &[&SettingGroup],
    build: F,
    function: &str,
) -> Result<(Pipeline, Option<Metrics>), SettingError>
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
    let pipeline =
        pipeline.with_response_limit(usize::try_from(limit).unwrap_or(MAX_RESPONSE_BYTES));
    Ok((pipeline, metrics))
}

fn handle(
    pipeline: &Pipeline,
    client: &RuntimeClient,
    invocation: &Invocation,
    metrics: Option<&Metrics>,
) {
    let span = info_span!("invocation", request_id = %invocation.request_id);
    let _entered = span.enter();
    let reply = match panic::catch(|| pipeline.process(&invocation.payload)) {
        Ok(Ok(processed)) => {
            log_summary(&processed, metrics);
            client.respond(&invocation.request_id, &processed.response)
        }
        Ok(Err(invalid)) => {
            error!(error_type = InvalidEvent::ERROR_TYPE, error = %invalid, bytes_in = invocation.payload.len(), "invocation failed");
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
            ("FIREHOSE_RESPONSE_LIMIT_BYTES", "5000"),
        ]);
        let (_, metrics) = start(env, &[], |_| Ok(Pipeline::new()), "f").unwrap();
        assert!(metrics.is_none());
        let env = Env::from_pairs([("FIREHOSE_RESPONSE_LIMIT_BYTES", "7000000")]);
        let err = start(env, &[], |_| Ok(Pipeline::new()), "f").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("FIREHOSE_RESPONSE_LIMIT_BYTES=\"7000000\" is invalid")
        );
    }

    #[test]
    fn partition_keys_run_after_the_function_s_steps() {
        let env = Env::from_pairs([("FIREHOSE_PARTITION_KEYS", "{a: .a}")]);
        let (pipeline, _) = start(env, &[], |_| Ok(Pipeline::new()), "f").unwrap();
        assert_eq!(pipeline.step_names(), ["partition-keys"]);
        let env = Env::from_pairs([("FIREHOSE_PARTITION_KEYS", "{a: .a")]);
        let err = start(env, &[], |_| Ok(Pipeline::new()), "f").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("FIREHOSE_PARTITION_KEYS=\"{a: .a\" is invalid: expected"),
            "{err}"
        );
    }
}
