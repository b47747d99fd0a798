//! A step that panics on any record containing `panic`: the panic fails that
//! record alone (`ProcessingFailed`, original bytes kept) and the function
//! goes on serving. The end-to-end tests run it as a release build.
use firehose_transform::prelude::*;

fn main() -> std::process::ExitCode {
    lambda::serve("catch-panics", &[], |_settings| {
        Ok(Pipeline::new().then(transform_fn("fragile", |record| {
            if record.text()?.contains("panic") {
                panic!("this step cannot handle the word it was given");
            }
            Ok(Verdict::Keep)
        })))
    })
}
