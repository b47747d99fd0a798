//! What one run measured, as Markdown tables for `docs/performance.md`: medians, each
//! function's time net of the harness, ratios, and the targets met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::batch::Batch;

/// One process's figures on one batch.
pub struct Measured {
    pub name: &'static str,
    /// The first invocation of a fresh process.
    pub first: Duration,
    /// Each warm invocation, round by round.
    pub warm: Vec<Duration>,
    /// The same, less the echo's time in the same round.
    pub net: Vec<Duration>,
    /// The process's CPU time in a warm invocation, on average.
    pub cpu: Duration,
    /// Its peak resident set after every invocation (Lambda's "Max Memory Used").
    pub peak_rss: Option<u64>,
    /// Whether it answered the batch at all (an answer over Lambda's 6 MB is
    /// an error): one that did not is not timed, and its note says why.
    pub answered: bool,
    /// What there is to say about its answer beside ours (numbers off in their
    /// last digits, records only one of them reads).
    pub note: Option<String>,
}

/// A target of the issue, met or not.
pub struct Target {
    pub what: String,
    pub measured: String,
    pub met: bool,
}

/// The median of `samples` (zero for none).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// `slow`'s median net time over `fast`'s: how many times faster `fast` is.
pub fn ratio(slow: &Measured, fast: &Measured) -> f64 {
    median(&slow.net).as_secs_f64() / median(&fast.net).as_secs_f64().max(1e-9)
}

/// The same by CPU time, each process's less the harness's own (`echo`'s).
pub fn cpu_ratio(slow: &Measured, fast: &Measured, echo: &Measured) -> f64 {
    let net = |m: &Measured| m.cpu.saturating_sub(echo.cpu).as_secs_f64();
    net(slow) / net(fast).max(1e-9)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// The table of one job on one batch; `reference` is the row the ratios are of.
pub fn batch_table(job: &str, batch: &Batch, rows: &[Measured], reference: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{job}, {} buffer: a {:.2} MB event of {} records ({:.2} MB of records)\n",
        batch.name,
        batch.event.len() as f64 / 1e6,
        batch.records,
        batch.record_bytes as f64 / 1e6,
    );
    let _ = writeln!(
        out,
        "| Process | first invocation | warm (median) | net of the harness | CPU (mean) | peak RSS | × {}'s time |",
        rows[reference].name
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    for (i, row) in rows.iter().enumerate() {
        if !row.answered {
            let _ = writeln!(out, "| {} | fails | – | – | – | – | – |", row.name);
            continue;
        }
        let times = if i == 0 {
            "–".to_owned()
        } else {
            format!("{:.1}×", ratio(row, &rows[reference]))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            ms(row.first),
            ms(median(&row.warm)),
            if i == 0 {
                "–".to_owned()
            } else {
                ms(median(&row.net))
            },
            ms(row.cpu),
            row.peak_rss.map_or_else(|| "–".to_owned(), mib),
            times,
        );
    }
    for row in rows {
        if let Some(note) = &row.note {
            let _ = writeln!(out, "\n{}: {note}", row.name);
        }
    }
    out
}

/// The start-up table: process start to its first poll of the Runtime API.
pub fn start_table(rows: &[(&'static str, Vec<Duration>, Option<u64>)]) -> String {
    let mut out =
        String::from("| Process | start to first poll (median) | binary |\n|---|---|---|\n");
    for (name, starts, bytes) in rows {
        let size = bytes.map_or_else(|| "–".to_owned(), |b| format!("{:.2} MB", b as f64 / 1e6));
        let _ = writeln!(out, "| {name} | {} | {size} |", ms(median(starts)));
    }
    out
}

/// The targets, one line each.
pub fn target_lines(targets: &[Target]) -> String {
    let mut out = String::from("| Target | measured | |\n|---|---|---|\n");
    for t in targets {
        let verdict = if t.met { "met" } else { "**missed**" };
        let _ = writeln!(out, "| {} | {} | {verdict} |", t.what, t.measured);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_sample() {
        let ms = |n| Duration::from_millis(n);
        assert_eq!(median(&[ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn the_cpu_ratio_leaves_out_the_harness() {
        let cpu = |n| Measured {
            name: "p",
            first: Duration::ZERO,
            warm: Vec::new(),
            net: Vec::new(),
            cpu: Duration::from_millis(n),
            peak_rss: None,
            answered: true,
            note: None,
        };
        let (echo, fast, slow) = (cpu(2), cpu(12), cpu(32));
        assert!((cpu_ratio(&slow, &fast, &echo) - 3.0).abs() < 1e-9);
    }
}
