//! Finding a template function's binary: the one beside `firehose-local`
//! (what `cargo build --release --workspace` makes), else built with cargo
//! from the function's `CodeUri`, as `sam build` would build it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The binary `name` in the folder of this executable, if it is there.
pub fn beside_me(name: &str) -> Option<PathBuf> {
    let binary = std::env::current_exe().ok()?.with_file_name(name);
    binary.is_file().then_some(binary)
}

/// Builds `binary` from the crate at `code_uri` with `cargo build --release`;
/// `say` hears what is being done. Returns the executable cargo reports.
pub fn cargo_build(
    binary: &str,
    code_uri: &Path,
    say: &mut dyn FnMut(String),
) -> Result<PathBuf, String> {
    let manifest = code_uri.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!(
            "{binary} is not built and {} does not exist to build it from (CodeUri); pass --binary PATH",
            manifest.display()
        ));
    }
    say(format!(
        "building {binary}: cargo build --release --manifest-path {} --bin {binary}",
        manifest.display()
    ));
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--message-format",
            "json-render-diagnostics",
            "--bin",
            binary,
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo to build {binary}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo could not build {binary} ({})",
            output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == binary)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built no executable named {binary}"))
}
