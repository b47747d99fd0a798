//! A function binary running locally against the emulated Runtime API, with
//! its log lines collected.

use std::io::{BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::LocalError;
use crate::lines::{Line, read_capped};
use crate::runtime_api::{Reply, RuntimeApi};

/// How long an invocation may take: Firehose's own wait for a Lambda.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// A running function process; it is killed when dropped.
pub struct LocalFunction {
    api: RuntimeApi,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
    started: Instant,
    /// The function's timeout: the deadline it is told, and how long
    /// [`LocalFunction::invoke`] waits.
    pub timeout: Duration,
}

impl LocalFunction {
    /// Starts `binary` with only the variables Lambda sets and `env`, as in a
    /// fresh Lambda environment (the caller's own environment is not passed on).
    pub fn start(binary: &Path, env: &[(String, String)]) -> Result<Self, LocalError> {
        let name = binary
            .file_name()
            .map_or_else(|| "function".into(), |n| n.to_string_lossy().into_owned());
        let api = RuntimeApi::start(&name)?;
        let started = Instant::now();
        let mut child = Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A process group of its own: a terminal's Ctrl-C reaches firehose-local alone, which
            // lets the function finish the batches in flight.
            .process_group(0)
            .spawn()
            .map_err(|source| LocalError::Spawn {
                binary: binary.display().to_string(),
                source,
            })?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect_lines(out, Arc::clone(&logs)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect_lines(err, Arc::clone(&logs)));
        }
        Ok(LocalFunction {
            api,
            child,
            logs,
            readers,
            started,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Invokes the function with `payload` and waits for its reply.
    pub fn invoke(&mut self, payload: &[u8]) -> Result<Reply, LocalError> {
        let id = self.api.enqueue(payload.to_vec(), self.timeout);
        let deadline = Instant::now() + self.timeout;
        let child = &mut self.child;
        self.api
            .wait(&id, deadline, || !matches!(child.try_wait(), Ok(None)))
    }

    /// How long the process took from being started to asking for its first
    /// invocation (its cold start, without Lambda's own), waiting up to
    /// `timeout` for that; `None` if it did not ask in time.
    pub fn start_up(&self, timeout: Duration) -> Option<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.api.first_poll() {
                return Some(at - self.started);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The most memory the process has held so far (its peak resident set, as
    /// Lambda's "Max Memory Used"), where the system tells (Linux).
    pub fn peak_memory_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The log lines (stdout and stderr) so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Takes the log lines so far out of the collection, so that a long run
    /// holds none it has read.
    pub fn take_logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Takes the log lines up to and including the first containing `needle`,
    /// waiting up to `timeout` for it (they arrive through a pipe, a moment
    /// after the reply); if it never comes, all there are.
    pub fn take_logs_through(&self, needle: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(mut logs) = self.logs.lock()
                && let Some(at) = logs.iter().position(|l| l.contains(needle))
            {
                return logs.drain(..=at).collect();
            }
            if Instant::now() >= deadline {
                return self.take_logs();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits up to `timeout` for a log line containing `needle` (logs arrive
    /// through a pipe, a moment after the reply), and returns it.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.logs().into_iter().find(|l| l.contains(needle)) {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `timeout` for the process to exit, then collects the rest of its logs.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for LocalFunction {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The longest log line kept: CloudWatch Logs' own limit for one event (256 KiB); the rest is cut.
const MAX_LOG_LINE_BYTES: usize = 256 * 1024;

/// Reads a function's output line by line as bytes, to its end: a line that
/// is not UTF-8 is kept lossily, a long one cut, so the function never blocks
/// on a full pipe or dies of a closed one.
fn collect_lines(
    stream: impl Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buffer = Vec::new();
        loop {
            let line = match read_capped(&mut reader, &mut buffer, MAX_LOG_LINE_BYTES) {
                Ok(Some(line)) => line,
                // Only a broken pipe errs (interrupts are retried): nothing more will come.
                Ok(None) | Err(_) => return,
            };
            let mut text = String::from_utf8_lossy(&buffer).into_owned();
            if let Line::TooLong { bytes } = line {
                text.push_str(&format!(
                    " [cut by firehose-local: the line had {bytes} bytes]"
                ));
            }
            if let Ok(mut logs) = logs.lock() {
                logs.push(text);
            }
        }
    })
}
