#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dockhand_fuzz::decode_paths(data));
