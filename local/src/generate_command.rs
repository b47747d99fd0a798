//! `firehose-local generate`: Kinesis Data Generator records on standard
//! output, a line each or as `run --input-format json` lines with arrival
//! times at the rate asked, so that `| firehose-local run --input -` buffers
//! them as Firehose would have; or sent to a Firehose or Kinesis stream
//! (`serve`, or AWS) at that rate, as the Kinesis Data Generator sends them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use firehose_local::generate::RecordTemplate;
use firehose_local::generate::send::Target;

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
    /// Send the records to this Firehose delivery stream with PutRecordBatch (when their time comes,
    /// with --rate), instead of writing them out.
    #[arg(long, value_name = "STREAM", conflicts_with_all = ["to_kinesis", "format", "real_time"])]
    to_firehose: Option<String>,
    /// Send the records to this Kinesis data stream with PutRecords, each with a random partition key.
    #[arg(long, value_name = "STREAM", conflicts_with_all = ["format", "real_time"])]
    to_kinesis: Option<String>,
    /// Where to send them: `firehose-local serve`'s URL. Without it, AWS, with the environment's
    /// credentials and region.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Tries per record: the entries a call's FailedPutCount names are put again, after a pause that
    /// doubles, until this many tries; the SDK retries a whole call as many times.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: u32,
    /// What was sent, as one JSON object.
    #[arg(long)]
    json: bool,
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
        let records = Records {
            template: &template,
            count,
            rate,
            start,
        };
        #[cfg(feature = "producer")]
        if let Some(target) = self.target() {
            return send::send(self, target, records, &mut rng);
        }
        #[cfg(not(feature = "producer"))]
        if self.target().is_some() {
            return Err(
                "--to-firehose and --to-kinesis: this firehose-local is built without them; build \
                 it with `cargo build --release -p firehose-local --features producer`"
                    .to_owned(),
            );
        }
        let started = Instant::now();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut record = String::new();
        for index in 0..records.count {
            let (offset, at) = records.time_of(index)?;
            record.clear();
            records.template.render(&mut rng, at, &mut record);
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

/// The records to make: `count` of the template, `1 / rate` seconds apart
/// from `start` (all at the start without a rate).
struct Records<'t> {
    template: &'t RecordTemplate,
    count: u64,
    rate: Option<f64>,
    start: jiff::Timestamp,
}

impl Records<'_> {
    /// When record `index` is due: after the start, and as a moment.
    fn time_of(&self, index: u64) -> Result<(Duration, jiff::Timestamp), String> {
        let offset = self.rate.map_or(Duration::ZERO, |rate| {
            Duration::from_secs_f64(index as f64 / rate)
        });
        let at = jiff::SignedDuration::try_from(offset)
            .ok()
            .and_then(|offset| self.start.checked_add(offset).ok())
            .ok_or_else(|| format!("record {index}: its time is past what a timestamp holds"))?;
        Ok((offset, at))
    }
}

impl Generate {
    /// The stream to send to, if one was named.
    fn target(&self) -> Option<Target> {
        self.to_firehose
            .clone()
            .map(Target::Firehose)
            .or_else(|| self.to_kinesis.clone().map(Target::Kinesis))
    }
}

#[cfg(feature = "producer")]
mod send {
    use std::process::ExitCode;
    use std::time::Instant;

    use firehose_local::generate::send::{Outgoing, Target};
    use firehose_local::generate::sender::Sender;

    use super::{Generate, Records};

    /// Sends the records to `target` in calls as full as its limits allow,
    /// each once its last record is due; prints what was sent and refused.
    pub fn send(
        generate: &Generate,
        target: Target,
        records: Records<'_>,
        rng: &mut fastrand::Rng,
    ) -> Result<ExitCode, String> {
        let mut sender = Sender::open(
            target.clone(),
            generate.endpoint_url.as_deref(),
            generate.max_attempts,
        )?;
        // Keys from a generator of their own, so that the records are those `generate` writes out.
        let mut keys = fastrand::Rng::with_seed(rng.get_seed() ^ 0x6b65_7973);
        let started = Instant::now();
        let mut batch: Vec<Outgoing> = Vec::new();
        let mut batch_bytes = 0;
        let mut refused_here = 0;
        let mut text = String::new();
        for index in 0..records.count {
            let (offset, at) = records.time_of(index)?;
            // A call goes once its records are due: the next one waits for its time.
            if records.rate.is_some() && offset > started.elapsed() && !batch.is_empty() {
                sender.send(std::mem::take(&mut batch))?;
                batch_bytes = 0;
            }
            std::thread::sleep(offset.saturating_sub(started.elapsed()));
            text.clear();
            records.template.render(rng, at, &mut text);
            let record = Outgoing {
                data: text.as_bytes().to_vec(),
                partition_key: format!("{:016x}", keys.u64(..)),
            };
            let size = target.counted_bytes(&record);
            if size > target.max_record_bytes() {
                // Refused by the API itself; sending it would fail the whole call.
                refused_here += 1;
                continue;
            }
            if batch.len() == Target::MAX_RECORDS || batch_bytes + size > target.max_call_bytes() {
                sender.send(std::mem::take(&mut batch))?;
                batch_bytes = 0;
            }
            batch_bytes += size;
            batch.push(record);
        }
        if !batch.is_empty() {
            sender.send(batch)?;
        }
        let mut tally = sender.tally;
        if refused_here > 0 {
            tally.records += refused_here;
            tally.refused += refused_here;
            *tally
                .refusals
                .entry("too large to send (over the API's record limit)".to_owned())
                .or_default() += refused_here;
        }
        let seconds = started.elapsed().as_secs_f64();
        let (kind, stream) = match &target {
            Target::Firehose(name) => ("firehose", name),
            Target::Kinesis(name) => ("kinesis", name),
        };
        if generate.json {
            let mut value = serde_json::to_value(&tally).map_err(|e| e.to_string())?;
            value["to"] = kind.into();
            value["stream"] = stream.as_str().into();
            value["seconds"] = seconds.into();
            println!("{value}");
        } else {
            println!(
                "sent {} records ({} bytes) to the {kind} stream {stream} in {seconds:.2} s: {} accepted, {} refused{}; {} put again after FailedPutCount named them",
                tally.records,
                tally.bytes,
                tally.accepted,
                tally.refused,
                refusals(&tally.refusals),
                tally.put_again
            );
        }
        Ok(if tally.refused == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        })
    }

    fn refusals(by_code: &std::collections::BTreeMap<String, u64>) -> String {
        if by_code.is_empty() {
            return String::new();
        }
        let each: Vec<String> = by_code
            .iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect();
        format!(" ({})", each.join(", "))
    }
}
