//! `firehose-cloudwatch-logs`: unpacks CloudWatch Logs subscription payloads into one line per log event,
//! putting back to the source the records too big for the response when `CLOUDWATCH_LOGS_REINGEST` asks.

mod aws_put;
mod reingest;

use std::process::ExitCode;

use firehose_transform::lambda;
use firehose_transform::pipeline::Pipeline;
use firehose_transform::settings::SettingError;
use firehose_transform::transforms::cloudwatch_logs::{CloudWatchLogs, REINGEST, SETTINGS};

fn main() -> ExitCode {
    lambda::serve("firehose-cloudwatch-logs", &[&SETTINGS], |settings| {
        let step = CloudWatchLogs::from_settings(settings)?;
        let max_decompressed = step.max_decompressed();
        let pipeline = Pipeline::new().then(step);
        if !settings.get(&REINGEST)? {
            return Ok(pipeline);
        }
        let put =
            aws_put::AwsPut::from_env().map_err(|e| SettingError::invalid(&REINGEST, "true", e))?;
        Ok(pipeline.with_reingest(reingest::Halves {
            put,
            max_decompressed,
        }))
    })
}
