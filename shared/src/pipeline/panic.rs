//! Catching a panicking step so that it fails one record, not the batch.
//!
//! A panic hook, installed once, records where a step panicked instead of
//! printing to stderr; the pipeline puts message and location into the
//! record's WARN line. Panics elsewhere go to the hook that was there before.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static INSIDE_STEP: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Runs `f`, turning a panic into its message and location.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    INSTALL.call_once(install_hook);
    // Restored, not reset: a catch inside a step must leave the step's own catch in force.
    let outer = INSIDE_STEP.with(|inside| inside.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    INSIDE_STEP.with(|inside| inside.set(outer));
    result.map_err(|payload| {
        let location = LOCATION.with(|l| l.borrow_mut().take());
        match location {
            Some(at) => format!("panicked at {at}: {}", message(&*payload)),
            None => format!("panicked: {}", message(&*payload)),
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
    fn a_panic_becomes_its_message_and_location() {
        let err = catch(|| -> u8 { panic!("boom {}", 42) }).unwrap_err();
        assert!(
            err.starts_with("panicked at shared/src/pipeline/panic.rs:"),
            "{err}"
        );
        assert!(err.ends_with(": boom 42"), "{err}");
    }

    #[test]
    fn a_catch_inside_a_catch_leaves_the_outer_one_in_force() {
        let err = catch(|| -> u8 {
            assert_eq!(catch(|| 1), Ok(1));
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
        assert_eq!(catch(|| 7), Ok(7));
    }
}
