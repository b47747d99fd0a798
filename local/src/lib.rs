//! Running Firehose transform functions locally: an emulated Lambda Runtime
//! API that drives the real function binary, Firehose's reading of what it
//! answers and its judgement of it, a readable view of the answer, and the
//! whole delivery stream of a template (`template` → `stream` → `sink`, each
//! calling only the next). `firehose-local` and the end-to-end tests are
//! built on this. Nothing here
//! depends on the `firehose-transform` crate, so it judges our functions as
//! independently as anyone else's.

pub mod answer;
pub mod build;
pub mod causes;
pub mod check;
pub mod convert;
pub mod function;
pub mod generate;
pub mod http_server;
pub mod json_text;
pub mod lines;
pub mod nesting;
pub mod runtime_api;
pub mod service;
pub mod sink;
pub mod stream;
pub mod template;
pub mod tls;
pub mod view;

pub use function::LocalFunction;
pub use runtime_api::{Reply, RuntimeApi};

/// Running a function locally failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("could not start the local Runtime API: {0}")]
    Server(String),
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("the function did not answer in time")]
    Timeout,
    #[error("the function exited without answering")]
    Exited,
    /// The function answered the invocation with an error, or failed to start.
    #[error("{0}")]
    Function(String),
    /// Lambda would start a fresh environment for the invocation: no attempt is lost.
    #[error("the function exited after its last invocation, before taking the next")]
    ExitedBeforeTaking,
}
