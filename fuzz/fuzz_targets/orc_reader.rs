#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firehose_fuzzing::orc_reader::run(data));
