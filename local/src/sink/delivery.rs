//! Getting an object to its store as Firehose does: a store that fails (a
//! folder out of space, an S3 API answering 5xx, 403 or NoSuchBucket, or not
//! at all) is tried again with backoff, on the wall clock, for a time budget.
//! Firehose never sends these failures to the error prefix. Past the budget
//! the object's bytes are kept in the undelivered folder, from which
//! `replay --undelivered` delivers them later; if even that fails, the object
//! is lost, and said to be.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::store::{LocalFolder, Object, Store, StoreError};

/// The first wait before trying a store again; each wait doubles, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(100);
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Where an object ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "landed")]
pub enum Landed {
    /// In the store, under its key.
    Stored,
    /// In the undelivered folder, at `path`, because the store failed with `why`.
    Undelivered { path: PathBuf, why: String },
    /// Nowhere: the store failed, and the undelivered folder too; `why` says both.
    Lost { why: String },
}

/// A store, retried, with the undelivered folder behind it.
pub struct Delivery {
    store: Box<dyn Store>,
    undelivered: LocalFolder,
    retry_for: Duration,
}

impl Delivery {
    /// Objects to `store`, each tried for `retry_for` before it goes to `undelivered`.
    pub fn new(store: Box<dyn Store>, undelivered: LocalFolder, retry_for: Duration) -> Self {
        Delivery {
            store,
            undelivered,
            retry_for,
        }
    }

    /// Puts one object where it can go.
    pub fn put(&mut self, object: &Object<'_>) -> Landed {
        let why = match self.put_retried(object) {
            Ok(()) => return Landed::Stored,
            Err(error) => error.to_string(),
        };
        match self.undelivered.put(object) {
            Ok(()) => Landed::Undelivered {
                path: self.undelivered.path(object.bucket, object.key),
                why,
            },
            Err(kept) => Landed::Lost {
                why: format!("{why}; and the undelivered folder: {kept}"),
            },
        }
    }

    /// Puts one object in the store, tried again for the time budget while it fails.
    pub fn put_retried(&mut self, object: &Object<'_>) -> Result<(), StoreError> {
        let started = Instant::now();
        let mut wait = FIRST_WAIT;
        loop {
            let error = match self.store.put(object) {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if !error.retryable() || started.elapsed() + wait > self.retry_for {
                return Err(error);
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(MAX_WAIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails its first `failures` puts, then keeps what it is given.
    struct Flaky {
        failures: u32,
        kept: Vec<String>,
    }

    impl Store for Flaky {
        fn put(&mut self, object: &Object<'_>) -> Result<(), StoreError> {
            if self.failures > 0 {
                self.failures -= 1;
                return Err(StoreError::S3 {
                    object: format!("s3://{}/{}", object.bucket, object.key),
                    message: "503 Slow Down".to_owned(),
                });
            }
            self.kept.push(object.key.to_owned());
            Ok(())
        }
    }

    fn object(key: &str) -> Object<'_> {
        Object {
            bucket: "b",
            key,
            bytes: b"x",
            content_encoding: None,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("delivery-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_store_that_recovers_within_the_budget_gets_the_object() {
        let store = Box::new(Flaky {
            failures: 2,
            kept: Vec::new(),
        });
        let dir = scratch("recovers");
        let mut delivery = Delivery::new(store, LocalFolder::new(&dir), Duration::from_secs(10));
        assert_eq!(delivery.put(&object("k")), Landed::Stored);
        assert!(!dir.exists());
    }

    #[test]
    fn past_the_budget_the_object_is_kept_undelivered_with_the_reason() {
        let store = Box::new(Flaky {
            failures: u32::MAX,
            kept: Vec::new(),
        });
        let dir = scratch("past");
        let mut delivery = Delivery::new(store, LocalFolder::new(&dir), Duration::ZERO);
        let Landed::Undelivered { path, why } = delivery.put(&object("a/../k")) else {
            panic!("not undelivered");
        };
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        assert!(why.contains("503 Slow Down"), "{why}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
