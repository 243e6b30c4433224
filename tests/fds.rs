//! Handles give their fds back: 1000 create/drop cycles leave the process's open fd count
//! unchanged.

mod common;

use rawbpf::insn::{Insn, Reg};
use rawbpf::map::{HashMap, Map, MapOptions, MapType};
use rawbpf::prog::{Program, ProgramOptions, ProgramType, TestRun};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

#[test]
fn create_drop_cycles_do_not_leak_fds() {
    if !common::privileged() {
        return;
    }
    // Warm up anything lazily opened once (caps, cpus).
    drop(Map::create(&MapOptions::new(MapType::PERCPU_ARRAY, 4, 8, 1)).expect("map"));
    let before = open_fds();
    for i in 0..1000u32 {
        let m =
            Map::create(&MapOptions::new(MapType::HASH, 4, 8, 4).name("fdleak")).expect("create");
        let h = HashMap::<u32, u64, _>::new(&m).expect("view");
        h.insert(&i, &1, rawbpf::map::ANY).expect("insert");
        let id = m.info().expect("info").id;
        drop(Map::from_id(id).expect("from_id"));
        if i % 10 == 0 {
            let p = Program::load(
                ProgramType::SOCKET_FILTER,
                &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
                &ProgramOptions::default(),
            )
            .expect("load");
            p.test_run(TestRun::with_data(&[0u8; 64])).expect("run");
            drop(Program::from_id(p.info().expect("info").id).expect("from_id"));
            // A rejected load leaks nothing either.
            assert!(
                Program::load(
                    ProgramType::SOCKET_FILTER,
                    &[Insn::exit()],
                    &ProgramOptions::default()
                )
                .is_err()
            );
        }
    }
    assert_eq!(open_fds(), before);
}
