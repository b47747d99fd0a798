//! Catching a panicking step so that it fails one record, not the batch.
//!
//! A panic hook, installed once, records where a step panicked instead of
//! printing to stderr; the pipeline puts the location into the record's WARN
//! line, and the message too when `FIREHOSE_LOG_RECORD_VALUES` is on: a panic
//! message may quote the record (`index out of bounds: ... 4111...`, a
//! `{value:?}`). Panics elsewhere go to the hook that was there before.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static INSIDE_STEP: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Runs `f`, turning a panic into its location, and its message `with_values`.
pub fn catch<T>(with_values: bool, f: impl FnOnce() -> T) -> Result<T, String> {
    INSTALL.call_once(install_hook);
    // Restored, not reset: a catch inside a step must leave the step's own catch in force.
    let outer = INSIDE_STEP.with(|inside| inside.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    INSIDE_STEP.with(|inside| inside.set(outer));
    result.map_err(|payload| {
        let at = LOCATION
            .with(|l| l.borrow_mut().take())
            .map_or_else(String::new, |at| format!(" at {at}"));
        if with_values {
            format!("panicked{at}: {}", message(&*payload))
        } else {
            format!("panicked{at} (its message may quote the record: FIREHOSE_LOG_RECORD_VALUES=true logs it)")
        }
    })
}

fn install_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if INSIDE_STEP.with(Cell::get) {
            let at = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            LOCATION.with(|l| *l.borrow_mut() = at);
        } else {
            previous(info);
        }
    }));
}

fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_location_and_its_message_only_with_values() {
        let err = catch(true, || -> u8 { panic!("boom {}", 42) }).unwrap_err();
        assert!(
            err.starts_with("panicked at shared/src/pipeline/panic.rs:"),
            "{err}"
        );
        assert!(err.ends_with(": boom 42"), "{err}");
        let err = catch(false, || -> u8 { panic!("card 4111 {}", 42) }).unwrap_err();
        assert!(
            err.starts_with("panicked at shared/src/pipeline/panic.rs:"),
            "{err}"
        );
        assert!(!err.contains("4111"), "{err}");
    }

    #[test]
    fn a_catch_inside_a_catch_leaves_the_outer_one_in_force() {
        let err = catch(true, || -> u8 {
            assert_eq!(catch(true, || 1), Ok(1));
            panic!("outer")
        })
        .unwrap_err();
        assert!(
            err.starts_with("panicked at shared/src/pipeline/panic.rs:"),
            "{err}"
        );
    }

    #[test]
    fn values_pass_through() {
        assert_eq!(catch(false, || 7), Ok(7));
    }
}
