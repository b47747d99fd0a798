#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firehose_fuzzing::service_api::run(data));
