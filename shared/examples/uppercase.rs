//! A custom transform in a dozen lines: upper-cases every record.
use firehose_transform::prelude::*;

fn main() -> std::process::ExitCode {
    lambda::serve("uppercase", &[], |_settings| {
        Ok(Pipeline::new().then(transform_fn("uppercase", |record| {
            let upper = record.text()?.to_uppercase();
            record.set_bytes(upper);
            Ok(Verdict::Keep)
        })))
    })
}
