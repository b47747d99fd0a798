//! Built-in transforms, one per module, each with its settings declared beside
//! it, and the entries that name them for `firehose-pipeline`'s catalogue and
//! serve each as its own function. `validate` is a crate of its own
//! (`functions/validate`), so that only the functions using it compile a JSON
//! Schema validator.

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

use crate::pipeline::transform::Transform;
use crate::settings::{SettingError, SettingGroup, Settings};

/// A built-in step: its name in `PIPELINE_STEPS`, its settings, how to build it.
pub struct BuiltIn {
    pub name: &'static str,
    pub settings: &'static SettingGroup,
    /// Reads the raw record (a log line) rather than JSON, so it must come first in a chain.
    pub reads_raw_records: bool,
    /// Makes the step from its settings (call [`BuiltIn::build`]).
    pub make: fn(&Settings) -> Result<Box<dyn Transform>, SettingError>,
}

impl BuiltIn {
    /// Builds the step from its settings.
    pub fn build(&self, settings: &Settings) -> Result<Box<dyn Transform>, SettingError> {
        (self.make)(settings)
    }
}

pub const NORMALIZE: BuiltIn = BuiltIn {
    name: "normalize",
    reads_raw_records: false,
    settings: &normalize::SETTINGS,
    make: |settings| Ok(Box::new(normalize::Normalize::from_settings(settings)?)),
};

pub const FILTER: BuiltIn = BuiltIn {
    name: "filter",
    reads_raw_records: false,
    settings: &filter::SETTINGS,
    make: |settings| Ok(Box::new(filter::Filter::from_settings(settings)?)),
};

pub const ENRICH: BuiltIn = BuiltIn {
    name: "enrich",
    reads_raw_records: false,
    settings: &enrich::SETTINGS,
    make: |settings| Ok(Box::new(enrich::Enrich::from_settings(settings)?)),
};

pub const ACCESS_LOG: BuiltIn = BuiltIn {
    name: "access-log",
    reads_raw_records: true,
    settings: &access_log::SETTINGS,
    make: |settings| Ok(Box::new(access_log::AccessLog::from_settings(settings)?)),
};

pub const CLOUDWATCH_LOGS: BuiltIn = BuiltIn {
    name: "cloudwatch-logs",
    reads_raw_records: true,
    settings: &cloudwatch_logs::SETTINGS,
    make: |settings| {
        Ok(Box::new(cloudwatch_logs::CloudWatchLogs::from_settings(
            settings,
        )?))
    },
};

pub const SYSLOG: BuiltIn = BuiltIn {
    name: "syslog",
    reads_raw_records: true,
    settings: &syslog::SETTINGS,
    make: |settings| Ok(Box::new(syslog::Syslog::from_settings(settings)?)),
};

/// The built-in steps of this crate, in the order the guide lists them
/// (`validate` comes from its own crate).
pub const BUILT_IN: &[&BuiltIn] = &[
    &NORMALIZE,
    &FILTER,
    &ENRICH,
    &ACCESS_LOG,
    &SYSLOG,
    &CLOUDWATCH_LOGS,
];
