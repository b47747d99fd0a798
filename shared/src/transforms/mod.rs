//! Built-in transforms, one per module, each with its settings declared beside
//! it, and the catalogue that names them for `firehose-pipeline` and serves
//! each as its own function.

pub mod access_log;
pub mod chain;
pub mod cloudwatch_logs;
pub mod enrich;
pub mod filter;
pub mod line_output;
pub mod normalize;
pub mod partition_keys;
pub mod syslog;
pub mod timestamp;
pub mod validate;

use std::process::ExitCode;

use crate::lambda;
use crate::pipeline::Pipeline;
use crate::settings::{SettingError, SettingGroup, Settings};
use crate::transform::Transform;

/// A built-in step: its name in `PIPELINE_STEPS`, its settings, how to build it.
pub struct BuiltIn {
    pub name: &'static str,
    pub settings: &'static SettingGroup,
    /// Reads the raw record (a log line) rather than JSON, so it must come first in a chain.
    pub reads_raw_records: bool,
    build: fn(&Settings) -> Result<Box<dyn Transform>, SettingError>,
}

impl BuiltIn {
    /// Builds the step from its settings.
    pub fn build(&self, settings: &Settings) -> Result<Box<dyn Transform>, SettingError> {
        (self.build)(settings)
    }

    /// Serves this step alone as the Lambda function `firehose-<name>`.
    pub fn serve(&self) -> ExitCode {
        lambda::serve(
            &format!("firehose-{}", self.name),
            &[self.settings],
            |settings| Ok(Pipeline::new().then(self.build(settings)?)),
        )
    }
}

pub const NORMALIZE: BuiltIn = BuiltIn {
    name: "normalize",
    reads_raw_records: false,
    settings: &normalize::SETTINGS,
    build: |settings| Ok(Box::new(normalize::Normalize::from_settings(settings)?)),
};

pub const FILTER: BuiltIn = BuiltIn {
    name: "filter",
    reads_raw_records: false,
    settings: &filter::SETTINGS,
    build: |settings| Ok(Box::new(filter::Filter::from_settings(settings)?)),
};

pub const VALIDATE: BuiltIn = BuiltIn {
    name: "validate",
    reads_raw_records: false,
    settings: &validate::SETTINGS,
    build: |settings| Ok(Box::new(validate::Validate::from_settings(settings)?)),
};

pub const ENRICH: BuiltIn = BuiltIn {
    name: "enrich",
    reads_raw_records: false,
    settings: &enrich::SETTINGS,
    build: |settings| Ok(Box::new(enrich::Enrich::from_settings(settings)?)),
};

pub const ACCESS_LOG: BuiltIn = BuiltIn {
    name: "access-log",
    reads_raw_records: true,
    settings: &access_log::SETTINGS,
    build: |settings| Ok(Box::new(access_log::AccessLog::from_settings(settings)?)),
};

pub const CLOUDWATCH_LOGS: BuiltIn = BuiltIn {
    name: "cloudwatch-logs",
    reads_raw_records: true,
    settings: &cloudwatch_logs::SETTINGS,
    build: |settings| {
        Ok(Box::new(cloudwatch_logs::CloudWatchLogs::from_settings(
            settings,
        )?))
    },
};

pub const SYSLOG: BuiltIn = BuiltIn {
    name: "syslog",
    reads_raw_records: true,
    settings: &syslog::SETTINGS,
    build: |settings| Ok(Box::new(syslog::Syslog::from_settings(settings)?)),
};

/// Every built-in step, in the order the README lists them.
pub const BUILT_IN: &[&BuiltIn] = &[
    &NORMALIZE,
    &FILTER,
    &VALIDATE,
    &ENRICH,
    &ACCESS_LOG,
    &SYSLOG,
    &CLOUDWATCH_LOGS,
];
