//! The soak: each function serves many small, varied invocations in one
//! process, as a warm Lambda environment does for hours, and its resident
//! memory and open file descriptors are read from `/proc` after the first
//! invocation, after a warm-up, and at the end. Every answer is judged as
//! Firehose would judge it.

use std::io::Write;
use std::path::Path;

use firehose_local::{LocalFunction, check};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use crate::batch;
use crate::contender::invoke;

/// A function as the soak runs it.
pub struct SoakFunction {
    pub binary: &'static str,
    pub env: &'static [(&'static str, &'static str)],
    pub records: Records,
}

/// What a function's records are.
#[derive(Debug, Clone, Copy)]
pub enum Records {
    /// The benchmark's JSON access events, about 2% of them bad.
    Json,
    AccessLog,
    Syslog,
    /// Gzipped CloudWatch Logs subscription payloads.
    CloudWatchLogs,
}

/// Every function, with settings that make each step work.
pub const FUNCTIONS: [SoakFunction; 8] = [
    SoakFunction {
        binary: "firehose-normalize",
        env: &[("NORMALIZE_TIMESTAMP_FIELDS", "timestamp")],
        records: Records::Json,
    },
    SoakFunction {
        binary: "firehose-filter",
        env: &[("FILTER_DROP", r#".Level == "DEBUG""#)],
        records: Records::Json,
    },
    SoakFunction {
        binary: "firehose-validate",
        env: &[(
            "VALIDATE_SCHEMA",
            r#"{"type":"object","required":["RequestId","Level"],"properties":{"Level":{"enum":["INFO","WARN","ERROR"]}}}"#,
        )],
        records: Records::Json,
    },
    SoakFunction {
        binary: "firehose-enrich",
        env: &[
            ("ENRICH_FIELDS", r#"{"env":"prod"}"#),
            ("ENRICH_ARRIVAL_TIME_FIELD", "arrived"),
        ],
        records: Records::Json,
    },
    SoakFunction {
        binary: "firehose-access-log",
        env: &[],
        records: Records::AccessLog,
    },
    SoakFunction {
        binary: "firehose-syslog",
        env: &[],
        records: Records::Syslog,
    },
    SoakFunction {
        binary: "firehose-cloudwatch-logs",
        env: &[("CLOUDWATCH_LOGS_EMBED_JSON", "true")],
        records: Records::CloudWatchLogs,
    },
    SoakFunction {
        binary: "firehose-pipeline",
        env: &[
            ("PIPELINE_STEPS", "normalize,filter,enrich"),
            ("FILTER_KEEP", r#".level != "DEBUG""#),
            ("ENRICH_FIELDS", r#"{"env":"prod"}"#),
            ("FIREHOSE_PARTITION_KEYS", "{level: .level}"),
        ],
        records: Records::Json,
    },
];

/// A process's resident memory and open file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub rss_bytes: u64,
    pub fds: usize,
}

/// What one function's soak found.
#[derive(Debug)]
pub struct Soaked {
    pub binary: &'static str,
    pub invocations: usize,
    /// After the first invocation.
    pub first: Usage,
    /// After the warm-up.
    pub warm: Usage,
    pub end: Usage,
}

/// Serves `invocations` seeded invocations of 1 to 20 records to one process of
/// `function` (its binary in `release`), reading its usage after the first,
/// after `warm_up` and at the end; fails on any answer Firehose would reject.
pub fn soak(
    release: &Path,
    function: &SoakFunction,
    invocations: usize,
    warm_up: usize,
    seed: u64,
) -> Result<Soaked, String> {
    let env: Vec<(String, String)> = function
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut process = LocalFunction::start(&release.join(function.binary), &env)
        .map_err(|e| format!("{}: {e}", function.binary))?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut first, mut warm) = (None, None);
    for i in 0..invocations {
        let payloads: Vec<Vec<u8>> = (0..rng.usize(1..=20))
            .map(|n| record(&mut rng, function.records, i * 20 + n))
            .collect();
        let event = batch::event(&payloads);
        let answer = invoke(function.binary, &mut process, &event)?;
        let report = check::judge(&event, &answer);
        if !report.accepted() {
            return Err(format!(
                "{}: Firehose would reject answer {i}: {:?}",
                function.binary,
                report.lines()
            ));
        }
        process.take_logs();
        if i == 0 {
            first = Some(usage(process.pid())?);
        }
        if i + 1 == warm_up {
            warm = Some(usage(process.pid())?);
        }
    }
    let end = usage(process.pid())?;
    Ok(Soaked {
        binary: function.binary,
        invocations,
        first: first.unwrap_or(end),
        warm: warm.unwrap_or(end),
        end,
    })
}

/// A process's usage, from Linux's `/proc`.
pub fn usage(pid: u32) -> Result<Usage, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .ok_or_else(|| format!("/proc/{pid}/status has no VmRSS"))?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map_err(|e| format!("/proc/{pid}/fd: {e}"))?
        .count();
    Ok(Usage {
        rss_bytes: rss_kib * 1024,
        fds,
    })
}

/// One record of the kind `records`, about one in twenty of it malformed.
fn record(rng: &mut fastrand::Rng, records: Records, i: usize) -> Vec<u8> {
    match records {
        Records::Json => batch::record(rng, i),
        Records::AccessLog => access_line(rng),
        Records::Syslog => syslog_line(rng, i),
        Records::CloudWatchLogs => cloudwatch_logs_payload(rng, i),
    }
}

fn access_line(rng: &mut fastrand::Rng) -> Vec<u8> {
    if rng.u8(..20) == 0 {
        return b"not an access log line".to_vec();
    }
    let host = match rng.u8(..3) {
        0 => format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(..)),
        1 => format!("2001:db8::{:x}", rng.u16(..)),
        _ => "::1".to_owned(),
    };
    let bytes = match rng.u8(..4) {
        0 => "-".to_owned(),
        _ => rng.u32(..100_000).to_string(),
    };
    let path = ["/", "/api/v1/orders?id=7", "/static/a%20b.js", "/ünïcode"][rng.usize(..4)];
    let line = format!(
        r#"{host} - - [01/May/2024:12:{:02}:{:02} +0200] "GET {path} HTTP/1.1" {} {bytes} "-" "curl/8.{}""#,
        rng.u8(..60),
        rng.u8(..60),
        [200, 304, 404, 500][rng.usize(..4)],
        rng.u8(..10)
    );
    line.into_bytes()
}

fn syslog_line(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let line = match rng.u8(..4) {
        0 => format!(
            "<{}>May  1 12:{:02}:00 web-1 sshd[{}]: Accepted publickey for deploy",
            rng.u8(..192),
            rng.u8(..60),
            rng.u16(..)
        ),
        1 => format!(
            r#"<165>1 2024-05-01T12:30:{:02}.{:03}Z host app {} ID47 [exampleSDID@32473 iut="3" eventID="{i}"] message {i}"#,
            rng.u8(..60),
            rng.u16(..1000),
            rng.u16(..)
        ),
        2 => format!("May  1 12:00:00 host kernel: [{}] eth0 up", rng.u32(..)),
        _ => "<>garbage".to_owned(),
    };
    line.into_bytes()
}

fn cloudwatch_logs_payload(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let payload = match rng.u8(..20) {
        0 => return b"not gzip".to_vec(),
        1 => json!({"messageType": "CONTROL_MESSAGE", "logEvents": []}),
        _ => {
            let events: Vec<_> = (0..rng.usize(1..6))
                .map(|n| {
                    let message = if rng.bool() {
                        json!({"level": "INFO", "n": n, "i": i}).to_string()
                    } else {
                        format!("plain message {n} of {i}")
                    };
                    json!({"id": format!("{i}-{n}"), "timestamp": 1_714_566_600_000_u64 + n as u64, "message": message})
                })
                .collect();
            json!({
                "messageType": "DATA_MESSAGE",
                "owner": "123456789012",
                "logGroup": "/app/web",
                "logStream": format!("stream-{}", rng.u8(..4)),
                "subscriptionFilters": ["all"],
                "logEvents": events,
            })
        }
    };
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gzip.write_all(payload.to_string().as_bytes());
    gzip.finish().unwrap_or_default()
}

/// The soak's table, as `docs/testing.md` holds it.
pub fn table(soaked: &[Soaked]) -> String {
    let mib = |usage: &Usage| usage.rss_bytes as f64 / f64::from(1 << 20);
    let mut out = String::from(
        "| function | invocations | RSS after the first | after the warm-up | at the end | open fds (first, warm, end) |\n\
         |---|---|---|---|---|---|\n",
    );
    for s in soaked {
        out.push_str(&format!(
            "| `{}` | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {}, {}, {} |\n",
            s.binary,
            s.invocations,
            mib(&s.first),
            mib(&s.warm),
            mib(&s.end),
            s.first.fds,
            s.warm.fds,
            s.end.fds
        ));
    }
    out
}
