//! The processes measured side by side, and how each is started: as Lambda
//! starts a function, with only its variables, against the local Runtime API.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use firehose_local::{LocalFunction, Reply};

/// One process to measure.
pub struct Contender {
    /// Its name in the tables.
    pub name: &'static str,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
    /// A binary of ours (not a Python handler), whose size counts.
    pub native: bool,
}

impl Contender {
    /// A function binary with these settings.
    pub fn binary(name: &'static str, binary: PathBuf, env: &[(&str, &str)]) -> Self {
        Contender {
            name,
            binary,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            native: true,
        }
    }

    /// A Python handler of `bench/python/` (`module.function`), run by awslambdaric.
    pub fn python(name: &'static str, python: &Path, handler: &str) -> Self {
        Contender::handler(name, "python", ("BENCH_PYTHON", python), handler)
    }

    /// A Node.js handler of `bench/node/` (`module.function`), run by its small runtime loop.
    pub fn node(name: &'static str, node: &Path, handler: &str) -> Self {
        Contender::handler(name, "node", ("BENCH_NODE", node), handler)
    }

    /// A handler in `bench/<folder>/`, started by that folder's `bootstrap` with
    /// `interpreter` (its variable and path), as Lambda sets `LAMBDA_TASK_ROOT` and `_HANDLER`.
    fn handler(
        name: &'static str,
        folder: &str,
        (variable, interpreter): (&str, &Path),
        handler: &str,
    ) -> Self {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let mut contender =
            Contender::binary(name, folder.join("bootstrap"), &[("_HANDLER", handler)]);
        contender.native = false;
        contender.env.extend([
            (variable.to_owned(), interpreter.display().to_string()),
            ("LAMBDA_TASK_ROOT".to_owned(), folder.display().to_string()),
        ]);
        contender
    }

    /// Starts a fresh process.
    pub fn start(&self) -> Result<LocalFunction, String> {
        LocalFunction::start(&self.binary, &self.env).map_err(|e| format!("{}: {e}", self.name))
    }

    /// Its binary's size, for a native one.
    pub fn binary_bytes(&self) -> Option<u64> {
        let metadata = self.native.then(|| std::fs::metadata(&self.binary))?;
        metadata.ok().map(|m| m.len())
    }
}

/// Invokes `function` and returns its response body, or says why there is none.
pub fn invoke(name: &str, function: &mut LocalFunction, event: &[u8]) -> Result<Vec<u8>, String> {
    match function.invoke(event) {
        Ok(Reply::Response(body)) => Ok(body),
        Ok(other) => Err(format!(
            "{name} did not answer: {other:?}; its logs: {:?}",
            function.take_logs()
        )),
        Err(e) => Err(format!("{name}: {e}; its logs: {:?}", function.take_logs())),
    }
}

/// The CPU time the process has used so far, threads that have ended
/// included (a function may run each batch on a thread of its own): Linux's
/// `/proc/PID/stat`, in clock ticks of 10 ms (`USER_HZ` is 100 on every
/// architecture Lambda runs), so it is summed over many invocations.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: the 14th and 15th fields, the 12th and 13th after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A Python interpreter with `bench/python/requirements.txt`: `given`, or the
/// venv this harness keeps in `target/bench-venv`, made the first time.
pub fn python(given: Option<PathBuf>, target: &Path) -> Result<PathBuf, String> {
    if let Some(python) = given {
        // Absolute (not canonical: a venv's interpreter is a link that must stay one), as the
        // bootstrap runs it from its own folder.
        return std::path::absolute(&python)
            .map_err(|e| format!("--python {}: {e}", python.display()));
    }
    let venv = target.join("bench-venv");
    let python = venv.join("bin/python");
    let has_packages = || {
        Command::new(&python)
            .args([
                "-c",
                "import awslambdaric, aws_lambda_powertools, fastjsonschema",
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_packages() {
        return Ok(python);
    }
    eprintln!("making the Python venv {} (once)", venv.display());
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/requirements.txt");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "-r"])
        .arg(requirements))?;
    Ok(python)
}

/// The `node` on the `PATH`, by its full path (functions start with no `PATH`).
pub fn node() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|node| node.is_file())
        .ok_or_else(|| {
            "no `node` on the PATH: the log jobs run AWS's Node.js blueprints".to_owned()
        })
}

/// The straightforward Rust handler: `given`, or built alone (as its own
/// project would be, without the workspace's serde_json features) into
/// `target/bench-plain`.
pub fn plain_handler(given: Option<PathBuf>, target: &Path) -> Result<PathBuf, String> {
    if let Some(binary) = given {
        return Ok(binary);
    }
    let target_dir = target.join("bench-plain");
    eprintln!(
        "building firehose-bench-plain alone into {}",
        target_dir.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "firehose-bench-plain",
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR")))?;
    Ok(target_dir.join("release/firehose-bench-plain"))
}

fn run(command: &mut Command) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{command:?} failed: {status}")),
        Err(e) => Err(format!("{command:?} did not start: {e}")),
    }
}
