//! Text parsers of the runtime: `/proc/kallsyms`, `/proc/self/mountinfo`, kernel config
//! (parsed, then every value encoded for every `.kconfig` extern type) and verifier logs
//! (statistics, summary, poisoned instruction). Each input goes through all of them; nothing
//! may panic or take long.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rawbpf::__fuzz;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = __fuzz::kallsyms(&text);
    let _ = __fuzz::mountinfo(&text);
    let _ = __fuzz::kconfig(&text);
    let _ = __fuzz::verifier_log(&text);
});
