//! Step panics as crashes. The pipeline catches a panicking step and fails
//! its record, as it must in production, which would hide every panic from
//! the fuzzer; a panic hook put over the pipeline's own notes each one, and
//! [`surfaced`] panics again outside the pipeline, where libFuzzer sees it.

use std::panic;
use std::sync::{Mutex, Once};

use firehose_transform::{Pipeline, Verdict, transform_fn};

static PANICKED: Mutex<Option<String>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Runs `f`, then panics if a step panicked inside it.
pub fn surfaced<T>(f: impl FnOnce() -> T) -> T {
    INSTALL.call_once(install);
    take();
    let out = f();
    if let Some(panicked) = take() {
        panic!("a step panicked (the pipeline caught it and failed its record): {panicked}");
    }
    out
}

fn take() -> Option<String> {
    PANICKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take()
}

fn install() {
    // The pipeline installs its hook at its first catch: make that happen, then go over it.
    let warm_up = Pipeline::new().then(transform_fn("warm-up", |_| Ok(Verdict::Keep)));
    let _ = warm_up.process(br#"{"records":[{"recordId":"1","data":""}]}"#);
    let pipeline_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        let message = info.payload_as_str().unwrap_or("a panic without a message");
        *PANICKED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(format!("{at}: {message}"));
        pipeline_hook(info);
    }));
}
