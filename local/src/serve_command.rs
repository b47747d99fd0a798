//! `firehose-local serve` (part of the binary): every delivery stream of a
//! template on the wall clock, behind the Firehose API, and every Kinesis data
//! stream behind the Kinesis API, for producers and SDKs to write to. Objects
//! are listed as they land; SIGUSR1 flushes every buffer now; Ctrl-C or
//! SIGTERM refuses new records, lands what was taken, and prints each
//! stream's summary. With `--state DIR`, what was acknowledged survives a
//! crash: it is delivered when serve starts again. `--tls` serves HTTPS.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use firehose_local::http_server::HttpServer;
use firehose_local::service::Service;
use firehose_local::service::data_stream::LiveDataStream;
use firehose_local::sink::objects::Written;
use firehose_local::stream::Options;
use firehose_local::stream::journal::Journal;
use firehose_local::stream::live::{Listeners, LiveStream, now_ms};
use firehose_local::stream::summary::object_line;
use firehose_local::template::{self, DeliveryStream};
use firehose_local::tls::Tls;

use crate::run_command::{EXIT_STOPPED, Setup, exit_status};

#[derive(clap::Args)]
pub struct Serve {
    /// The address to listen on. Any but a loopback one lets whoever can reach it write records.
    #[arg(long, default_value = "127.0.0.1:4573")]
    listen: SocketAddr,
    /// Flush every buffer at most this many seconds after its first record, instead of the template's
    /// intervals (minutes make a developer wait); sizes still flush as they fill.
    #[arg(long, value_name = "SECONDS")]
    buffer_interval: Option<u32>,
    /// The most MiB of records waiting for each stream's function; past it puts are refused with
    /// ServiceUnavailableException, which every SDK retries.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    queue_mib: u64,
    /// Keep every accepted record in this folder, synced before the answer says it was accepted,
    /// until it has landed; records an earlier serve kept (it crashed) are delivered first.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Serve HTTPS (for the KPL and Fluent Bit, which speak nothing else), with a self-signed certificate
    /// made once and kept in --tls-dir.
    #[arg(long)]
    tls: bool,
    /// Where --tls keeps its certificate (cert.pem, for clients to trust) and key.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "firehose-local-tls",
        requires = "tls"
    )]
    tls_dir: PathBuf,
    /// A name the certificate holds besides localhost, 127.0.0.1, ::1 and the --listen address
    /// (a host name producers on other machines use); repeatable.
    #[arg(long, value_name = "NAME", requires = "tls")]
    tls_name: Vec<String>,
    #[command(flatten)]
    setup: Setup,
}

/// How often the main thread looks for signals.
const WATCH: Duration = Duration::from_millis(100);

impl Serve {
    pub fn execute(&self) -> Result<ExitCode, String> {
        let setup = &self.setup;
        let deployment =
            template::load_all(&setup.template, &setup.parameters).map_err(|e| e.to_string())?;
        let seed = setup.seed();
        let interrupted = crate::interrupt::watch(
            "stopping: refusing new records, flushing every buffer and landing what was taken",
        )?;
        let flush = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&flush))
            .map_err(|e| format!("cannot watch for SIGUSR1: {e}"))?;
        let mut running = Vec::new();
        let mut names = Vec::new();
        // Records each stream's journal kept from an earlier run.
        let mut kept = BTreeMap::new();
        for mut stream in deployment.delivery_streams {
            if let Some(seconds) = self.buffer_interval {
                shorten_intervals(&mut stream, i64::from(seconds) * 1000);
            }
            names.push(stream.name.clone());
            let journal = self.open_state(&stream.name, &mut kept)?;
            running.push(self.start(stream, seed, &interrupted, journal)?);
        }
        let tls = self.tls()?;
        let service = Arc::new(Service::new(running, deployment.data_streams));
        let server = {
            let service = Arc::clone(&service);
            let handler = move |request| {
                let service = Arc::clone(&service);
                async move { service.handle(request).await }
            };
            match &tls {
                Some(tls) => HttpServer::start_tls(self.listen, Arc::clone(&tls.config), handler),
                None => HttpServer::start(self.listen, handler),
            }
            .map_err(|e| format!("--listen {}: {e}", self.listen))?
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", server.addr());
        self.announce(&url, &names, &service, tls.as_ref());
        while !interrupted.load(Ordering::SeqCst) {
            std::thread::sleep(WATCH);
            if flush.swap(false, Ordering::SeqCst) {
                eprintln!("firehose-local: SIGUSR1: flushing every buffer now");
                service.flush_now();
            }
        }
        let finished = service.finish();
        drop(server);
        let mut out = std::io::stdout().lock();
        for data_stream in service.data_streams() {
            let (name, put) = (&data_stream.stream.name, data_stream.records_put());
            let printed = if setup.json {
                let event = serde_json::json!({"event": "data_stream", "name": name, "records_put": put, "read_by": data_stream.readers});
                writeln!(out, "{event}")
            } else {
                writeln!(
                    out,
                    "== data stream {name}: {put} records put, read by {}",
                    readers(data_stream)
                )
            };
            printed.map_err(|e| format!("cannot write the summary: {e}"))?;
        }
        let mut worst = 0;
        for (name, summary) in finished {
            let mut summary = match summary {
                Ok(summary) => summary,
                Err(e) => {
                    // The other streams' summaries are still worth printing.
                    eprintln!("firehose-local: the delivery stream {name} stopped: {e}");
                    worst = worst.max(EXIT_STOPPED);
                    continue;
                }
            };
            summary.from_state = kept.get(&name).copied().unwrap_or(0);
            let printed = if setup.json {
                let mut value = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
                value["event"] = "summary".into();
                writeln!(out, "{value}")
            } else {
                write!(out, "{}", summary.render())
            };
            printed.map_err(|e| format!("cannot write the summary: {e}"))?;
            // Stopping is how serve ends: not a failure by itself.
            worst = worst.max(exit_status(&summary, false));
        }
        Ok(ExitCode::from(worst))
    }

    /// With `--state`, the journal of the stream `name`, telling what an
    /// earlier run left in it (and counting it in `kept`).
    fn open_state(
        &self,
        name: &str,
        kept: &mut BTreeMap<String, u64>,
    ) -> Result<Option<Journal>, String> {
        let Some(state) = &self.state else {
            return Ok(None);
        };
        let (journal, left) = Journal::open(state, name).map_err(|e| e.to_string())?;
        for damage in &left.damage {
            eprintln!("firehose-local: --state: {damage}");
        }
        if left.records > 0 {
            if self.setup.json {
                let event =
                    serde_json::json!({"event": "state", "stream": name, "kept": left.records});
                println!("{event}");
            } else {
                println!(
                    "{name}: {} records an earlier run accepted and had not landed: delivering them first (those that had landed land again)",
                    left.records
                );
            }
        }
        kept.insert(name.to_owned(), left.records);
        Ok(Some(journal))
    }

    /// One stream of the template, started on the wall clock.
    fn start(
        &self,
        stream: DeliveryStream,
        seed: u64,
        interrupted: &Arc<AtomicBool>,
        journal: Option<Journal>,
    ) -> Result<LiveStream, String> {
        let setup = &self.setup;
        // With --state, the journal forgets what has landed: it must be on disk.
        let objects = setup.objects(&stream, seed, journal.is_some())?;
        let invoker = setup.invoker(&stream)?;
        let options = Options {
            start_ms: now_ms(),
            first_arrival_starts: false,
            spacing_ms: 0,
            seed,
            trace: setup.trace,
            active_partitions: setup.active_partitions(),
            interrupted: Arc::clone(interrupted),
        };
        let (json, name) = (setup.json, stream.name.clone());
        let listeners = Listeners {
            landed: Box::new(move |object: &Written| landed(json, &name, object)),
            trace: Box::new(move |line: String| {
                if json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }),
        };
        LiveStream::start(
            stream,
            invoker,
            objects,
            options,
            listeners,
            self.queue_mib << 20,
            journal,
        )
        .map_err(|e| format!("cannot start the stream's thread: {e}"))
    }

    /// With `--tls`, the certificate kept in `--tls-dir` (made when there is
    /// none for these names), naming the `--listen` address unless it is any.
    fn tls(&self) -> Result<Option<Tls>, String> {
        if !self.tls {
            return Ok(None);
        }
        let mut names = self.tls_name.clone();
        let ip = self.listen.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.insert(0, ip.to_string());
        }
        Tls::load_or_make(&self.tls_dir, &names)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// Says where to send records, and how to stop.
    fn announce(&self, url: &str, names: &[String], service: &Service, tls: Option<&Tls>) {
        if !self.listen.ip().is_loopback() {
            eprintln!(
                "firehose-local: WARNING: listening on {}, not a loopback address: anyone who can reach it can write records",
                self.listen
            );
        }
        let pid = std::process::id();
        if self.setup.json {
            let data_streams: Vec<&str> = service
                .data_streams()
                .map(|d| d.stream.name.as_str())
                .collect();
            let mut event = serde_json::json!({"event": "listening", "endpoint": url, "delivery_streams": names, "data_streams": data_streams, "pid": pid});
            if let Some(tls) = tls {
                event["certificate"] = tls.certificate.display().to_string().into();
                event["certificate_names"] = tls.names.clone().into();
            }
            println!("{event}");
        } else {
            println!("firehose-local serve: the Firehose and Kinesis APIs at {url}");
            println!("delivery streams: {}", names.join(", "));
            for data_stream in service.data_streams() {
                println!(
                    "Kinesis data stream {} ({} shards): read by {}",
                    data_stream.stream.name,
                    data_stream.stream.shards,
                    readers(data_stream)
                );
            }
            println!("objects land {}", self.setup.where_objects_land());
            println!("point your producer at it:\n  export AWS_ENDPOINT_URL={url}");
            if let Some(tls) = tls {
                let certificate = tls.certificate.display();
                let how = if tls.made {
                    "made now"
                } else {
                    "kept from before"
                };
                println!(
                    "HTTPS with a self-signed certificate ({how}) for {}: {certificate}",
                    tls.names.join(", ")
                );
                println!(
                    "trust it:\n  export AWS_CA_BUNDLE={certificate}   # the AWS CLI, boto3\n  export NODE_EXTRA_CA_CERTS={certificate}   # Node.js"
                );
            }
            println!(
                "flush every buffer now: kill -USR1 {pid}; stop (landing everything): Ctrl-C or kill {pid}"
            );
        }
        let _ = std::io::stdout().flush();
    }
}

/// The delivery streams reading `data_stream`, for people.
fn readers(data_stream: &LiveDataStream) -> String {
    if data_stream.readers.is_empty() {
        "no delivery stream (records put to it are kept nowhere)".to_owned()
    } else {
        data_stream.readers.join(", ")
    }
}

/// Tells that `object` of the stream `name` landed.
fn landed(json: bool, name: &str, object: &Written) {
    if json {
        if let Ok(mut value) = serde_json::to_value(object) {
            value["event"] = "landed".into();
            value["stream"] = name.into();
            println!("{value}");
        }
    } else {
        println!("{name}: {}", object_line(object));
    }
    let _ = std::io::stdout().flush();
}

/// Makes every buffer of `stream` flush at most `interval_ms` after its first record.
fn shorten_intervals(stream: &mut DeliveryStream, interval_ms: i64) {
    let hints = [
        Some(&mut stream.destination.buffering),
        stream.backup.as_mut().map(|b| &mut b.buffering),
        stream.lambda.as_mut().map(|l| &mut l.buffering),
    ];
    for buffering in hints.into_iter().flatten() {
        buffering.interval_ms = buffering.interval_ms.min(interval_ms);
    }
}
