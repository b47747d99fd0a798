//! `firehose-local generate`: Kinesis Data Generator records on standard
//! output, a line each or as `run --input-format json` lines with arrival
//! times at the rate asked, so that `| firehose-local run --input -` buffers
//! them as Firehose would have.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use firehose_local::generate::RecordTemplate;

#[derive(clap::Args)]
pub struct Generate {
    /// The record template, in the Kinesis Data Generator's syntax (`{{random.number(70)}}`), or `-` for standard input.
    template: PathBuf,
    /// How many records.
    #[arg(long, required_unless_present = "duration")]
    count: Option<u64>,
    /// For how many seconds of records (at --rate).
    #[arg(long, requires = "rate", conflicts_with = "count")]
    duration: Option<u64>,
    /// Records per second: their times (`date.now`, `arrival`) are this far apart.
    #[arg(long)]
    rate: Option<f64>,
    /// `lines`: each record a line (a record holding a newline is refused). `json`: each a
    /// `{"data": ..., "arrival": ...}` line, what `run --input-format json` reads.
    #[arg(long, value_enum, default_value_t = Format::Lines)]
    format: Format,
    /// The first record's time (RFC 3339); now if not given.
    #[arg(long)]
    start_time: Option<jiff::Timestamp>,
    /// Seeds the random parts; with --start-time the records repeat byte for byte. Printed on standard error when not given.
    #[arg(long)]
    seed: Option<u64>,
    /// Write each record when its time comes, as the KDG sends them, instead of at once.
    #[arg(long, requires = "rate")]
    real_time: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Lines,
    Json,
}

impl Generate {
    pub fn execute(&self) -> Result<ExitCode, String> {
        let text = if self.template.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
                .map_err(|e| format!("cannot read standard input: {e}"))?
        } else {
            std::fs::read_to_string(&self.template)
                .map_err(|e| format!("cannot read {}: {e}", self.template.display()))?
        };
        // The file's last newline is the editor's, not the record's.
        let text = text
            .strip_suffix('\n')
            .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
        let template =
            RecordTemplate::parse(text).map_err(|e| format!("{}: {e}", self.template.display()))?;
        let rate = match self.rate {
            Some(rate) if !(rate.is_finite() && rate > 0.0) => {
                return Err(format!(
                    "--rate {rate}: expected records per second above 0"
                ));
            }
            rate => rate,
        };
        let count = match (self.count, self.duration, rate) {
            (Some(count), _, _) => count,
            (None, Some(seconds), Some(rate)) => (seconds as f64 * rate).round() as u64,
            _ => return Err("give --count N, or --duration SECONDS with --rate".to_owned()),
        };
        let seed = self.seed.unwrap_or_else(|| {
            let seed = fastrand::u64(..);
            eprintln!("firehose-local: --seed {seed}");
            seed
        });
        let mut rng = fastrand::Rng::with_seed(seed);
        let start = self.start_time.unwrap_or_else(jiff::Timestamp::now);
        let started = Instant::now();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut record = String::new();
        for index in 0..count {
            // Records are `1 / rate` seconds apart; all at the start without a rate.
            let offset = rate.map_or(Duration::ZERO, |rate| {
                Duration::from_secs_f64(index as f64 / rate)
            });
            let at = jiff::SignedDuration::try_from(offset)
                .ok()
                .and_then(|offset| start.checked_add(offset).ok())
                .ok_or_else(|| {
                    format!("record {index}: its time is past what a timestamp holds")
                })?;
            record.clear();
            template.render(&mut rng, at, &mut record);
            let line = match self.format {
                Format::Lines if record.contains('\n') => {
                    return Err(format!(
                        "record {index} holds a newline, so it would be read as several: use --format json"
                    ));
                }
                Format::Lines => record.clone(),
                Format::Json => serde_json::json!({
                    "data": record,
                    "arrival": at.as_millisecond(),
                })
                .to_string(),
            };
            if self.real_time {
                out.flush().map_err(|e| e.to_string())?;
                std::thread::sleep(offset.saturating_sub(started.elapsed()));
            }
            let written = writeln!(out, "{line}");
            // A reader that stops early (`| head`) is not an error.
            if matches!(&written, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe) {
                return Ok(ExitCode::SUCCESS);
            }
            written.map_err(|e| format!("cannot write standard output: {e}"))?;
        }
        match out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(format!("cannot write standard output: {e}"))
            }
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}
