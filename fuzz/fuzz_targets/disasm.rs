//! The instruction decoder and disassembler: arbitrary bytes as instructions, decoded as
//! operations and listed (plain, with map ids, with named calls). Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rawbpf::__fuzz::disasm(data);
});
