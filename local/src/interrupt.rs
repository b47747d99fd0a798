//! Ctrl-C and SIGTERM during `run`, `replay` and `serve`: the first stops the
//! reading of input (or the taking of records) and lets the stream finish (the batches in flight, every buffer
//! written, the summary); a second one aborts at once, saying what is lost.
//! The function runs in a process group of its own, so a terminal's Ctrl-C
//! does not stop it mid-batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The exit status of a run that a second signal aborted.
pub const EXIT_ABORTED: u8 = 131;

/// A flag set by the first SIGINT or SIGTERM from now on, which says `what_now`;
/// the second ends the process.
pub fn watch(what_now: &'static str) -> Result<Arc<AtomicBool>, String> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot watch for Ctrl-C and SIGTERM: {e}"))?;
    let seen = interrupted.clone();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if seen.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "firehose-local: interrupted again: aborting. Records read but not yet in an object \
                     (in the buffers and in flight) are not written; every object written is whole."
                );
                std::process::exit(i32::from(EXIT_ABORTED));
            }
            eprintln!("firehose-local: interrupted: {what_now} (interrupt again to abort)");
        }
    });
    Ok(interrupted)
}
