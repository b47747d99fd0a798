//! `firehose-bench`: the real function binaries measured as processes through
//! the local Runtime API, beside the same job done by a straightforward Rust
//! handler and by Python with Powertools, on the same seeded events,
//! interleaved in one run, net of the harness's own cost.

pub mod agree;
pub mod batch;
pub mod contender;
pub mod job;
pub mod logs;
pub mod report;
pub mod soak;
