//! What a run counts and tells as records go through it: the summary, and
//! (with `--trace`) a line for where each record ended. Every stage of the
//! engine writes here, so the every-record proof is kept in one place.

use super::summary::{Summary, keep};
use crate::sink::objects::Written;

/// The summary being counted, and the trace's listener when tracing.
pub struct Ledger<'t> {
    pub summary: Summary,
    trace: Option<&'t mut dyn FnMut(String)>,
}

impl<'t> Ledger<'t> {
    pub fn new(summary: Summary, trace: Option<&'t mut dyn FnMut(String)>) -> Self {
        Ledger { summary, trace }
    }

    /// Lines are being traced: worth the work of making them.
    pub fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// One trace line.
    pub fn tell(&mut self, line: String) {
        if let Some(trace) = self.trace.as_mut() {
            trace(line);
        }
    }

    /// A put refused before it entered the stream.
    pub fn refuse(&mut self, index: u64, why: String) {
        self.summary.records_in += 1;
        self.summary.refused += 1;
        self.tell(format!("#{index}: refused: {why}"));
        keep(&mut self.summary.refusals, why);
    }

    /// Counts the objects that were written, and traces each record in them.
    pub fn written(&mut self, objects: Vec<Written>) {
        for object in objects {
            self.object(object);
        }
    }

    fn object(&mut self, object: Written) {
        self.summary.written(&object);
        if !self.tracing() {
            return;
        }
        // A record in a Parquet object is its rows, from this one.
        let unit = if object.rows.is_some() { "row" } else { "line" };
        for placed in &object.placed {
            let what = match placed.code {
                Some(code) => format!("{code}, in"),
                None => "delivered to".to_owned(),
            };
            let line = format!(
                "#{} {}: {what} s3://{}/{} {unit} {}",
                placed.index, placed.record_id, object.bucket, object.key, placed.line
            );
            self.tell(line);
        }
    }
}
