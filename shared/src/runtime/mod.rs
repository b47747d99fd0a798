//! Running a pipeline on Lambda: the Runtime API client, the serving loop,
//! logging.

mod client;
pub mod lambda;
mod logging;
