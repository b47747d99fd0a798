//! The end-to-end tests: the real function binaries, run through the local
//! Runtime API. One module a function or concern; `cargo nextest run -E 'test(filter::)'` runs one.

mod access_log;
mod bench;
mod cloudwatch_logs;
mod compression;
mod contract;
mod convert;
mod delivery;
mod docs;
mod enrich;
mod filter;
mod fuzz_corpus;
mod generate;
mod interrupt;
mod limits;
mod logs;
mod normalize;
mod orc;
mod partition_keys;
mod pipeline;
mod reingest;
mod run;
mod serve;
mod serve_clients;
mod syslog;
mod template;
mod validate;
mod workspace;
