//! A step that panics on any record containing `panic`: the panic fails that
//! record alone (`ProcessingFailed`, original bytes kept) and the function
//! goes on serving. Its message quotes the record, so the WARN line names
//! only where it panicked unless `FIREHOSE_LOG_RECORD_VALUES=true`. The
//! end-to-end tests run it as a release build.
use firehose_transform::prelude::*;

fn main() -> std::process::ExitCode {
    lambda::serve("catch-panics", &[], |_settings| {
        Ok(Pipeline::new().then(transform_fn("fragile", |record| {
            let text = record.text()?;
            if text.contains("panic") {
                panic!("this step cannot handle {text:?}");
            }
            Ok(Verdict::Keep)
        })))
    })
}
