//! The gzip/DEFLATE reader behind `/proc/config.gz`: arbitrary bytes give the data or an
//! error, never a panic, and never more than the reader's output limit. What decompresses is
//! then parsed as a kernel config, as the loader does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rawbpf::__fuzz;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = __fuzz::gunzip(data) {
        assert!(out.len() <= 64 << 20);
        let _ = __fuzz::kconfig(&String::from_utf8_lossy(&out));
    }
});
