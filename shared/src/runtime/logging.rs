//! JSON logs through `tracing`, at the level Lambda's advanced logging controls ask for.

use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::{Env, SettingError};

/// Installs the JSON logger. The level comes from `AWS_LAMBDA_LOG_LEVEL`, else
/// `RUST_LOG` (`level` or `target=level,...`), else INFO. A bad value still
/// installs an INFO logger, so the error that follows is logged too.
pub fn init(env: &Env) -> Result<(), SettingError> {
    let (filter, problem) = match filter(env) {
        Ok(filter) => (filter, None),
        Err(problem) => (
            Targets::new().with_default(LevelFilter::INFO),
            Some(problem),
        ),
    };
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout);
    // Fails only if a logger is already installed (a test harness), which is fine.
    let _ = tracing_subscriber::registry()
        .with(json)
        .with(filter)
        .try_init();
    problem.map_or(Ok(()), Err)
}

fn filter(env: &Env) -> Result<Targets, SettingError> {
    if let Some(level) = env.get("AWS_LAMBDA_LOG_LEVEL") {
        let level = match level.trim().to_ascii_uppercase().as_str() {
            "FATAL" => LevelFilter::ERROR,
            other => LevelFilter::from_str(other).map_err(|_| SettingError::Invalid {
                name: "AWS_LAMBDA_LOG_LEVEL",
                value: level.to_owned(),
                reason: "not a log level".to_owned(),
                expected: "TRACE, DEBUG, INFO, WARN, ERROR or FATAL".to_owned(),
            })?,
        };
        return Ok(Targets::new().with_default(level));
    }
    if let Some(directives) = env.get("RUST_LOG") {
        return Targets::from_str(directives).map_err(|_| SettingError::Invalid {
            name: "RUST_LOG",
            value: directives.to_owned(),
            reason: "not a log filter".to_owned(),
            expected: "a level such as `info`, or `target=level` pairs separated by commas"
                .to_owned(),
        });
    }
    Ok(Targets::new().with_default(LevelFilter::INFO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(pairs: &[(&str, &str)]) -> Result<Option<LevelFilter>, SettingError> {
        filter(&Env::from_pairs(pairs.iter().copied())).map(|t| t.default_level())
    }

    #[test]
    fn lambda_level_wins_over_rust_log() {
        assert_eq!(
            level(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("RUST_LOG", "error")]),
            Ok(Some(LevelFilter::DEBUG))
        );
        assert_eq!(
            level(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]),
            Ok(Some(LevelFilter::ERROR))
        );
        assert_eq!(level(&[("RUST_LOG", "warn")]), Ok(Some(LevelFilter::WARN)));
        assert_eq!(level(&[]), Ok(Some(LevelFilter::INFO)));
    }

    #[test]
    fn a_bad_level_names_its_variable() {
        let err = level(&[("AWS_LAMBDA_LOG_LEVEL", "LOUD")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("AWS_LAMBDA_LOG_LEVEL=\"LOUD\" is invalid"),
            "{err}"
        );
        assert!(level(&[("RUST_LOG", "a=b=c")]).is_err());
    }
}
