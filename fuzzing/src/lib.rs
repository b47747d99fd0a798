//! The entry points of the fuzz targets in `fuzz/`: each takes any bytes and
//! panics only when one of our invariants breaks (an answer Firehose would
//! reject, a failed record that lost its bytes, two paths that disagree, a
//! panic). libFuzzer drives them from `fuzz/fuzz_targets/`; the end-to-end
//! test `fuzz_corpus` runs every committed corpus file through them, so CI
//! checks the corpus without building a fuzzer.
//!
//! Where one target covers several parsers or configurations, the input's
//! first byte chooses among them (modulo their number), so that a corpus file
//! keeps meaning the same thing.

pub mod invocation;
pub mod line_parsers;
pub mod local_inputs;
pub mod normalize;
pub mod orc_reader;
pub mod response;
pub mod service_api;
mod step_panics;

/// A target's entry point: any bytes in, a panic when an invariant breaks.
pub type Entry = fn(&[u8]);

/// Every target: its name (the file in `fuzz/fuzz_targets/`, the folder in
/// `fuzz/corpus/`) and its entry point.
pub const TARGETS: &[(&str, Entry)] = &[
    ("invocation", invocation::run),
    ("line_parsers", line_parsers::run),
    ("normalize", normalize::run),
    ("response", response::run),
    ("local_inputs", local_inputs::run),
    ("service_api", service_api::run),
    ("orc_reader", orc_reader::run),
];

/// The input's first byte as a choice among `n`, and the rest.
fn choose(data: &[u8], n: usize) -> (usize, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (usize::from(*first) % n, rest),
        None => (0, data),
    }
}
