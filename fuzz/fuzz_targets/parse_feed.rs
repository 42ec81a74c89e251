#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tidings_fuzz::only_uncaught_panics_crash();
    tidings_fuzz::parse_feed(data)
});
