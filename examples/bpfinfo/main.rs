//! A small bpftool built only on rawbpf's public API: what is loaded in the kernel.
//!
//! ```text
//! cargo run --example bpfinfo -- [-j] prog list
//! cargo run --example bpfinfo -- [-j] prog show id N
//! cargo run --example bpfinfo -- prog dump xlated id N
//! cargo run --example bpfinfo -- [-j] map list
//! cargo run --example bpfinfo -- [-j] map dump id N
//! cargo run --example bpfinfo -- [-j] link list
//! cargo run --example bpfinfo -- [-j] btf list
//! cargo run --example bpfinfo -- btf dump id N
//! cargo run --example bpfinfo -- [-j] net list
//! ```
//!
//! Run as root (walking ids needs `CAP_SYS_ADMIN`). `-j` prints JSON: for `prog`, `map` and
//! `btf` the shapes of `bpftool -j`; for `link` and `net` a simple array of objects.
//! `net list` shows the network attachments made through BPF links (XDP, tcx, netkit,
//! netfilter); those attached the old way through netlink (`ip link set dev X xdp …`,
//! `tc filter`) are not listed.

use std::process::ExitCode;

use rawbpf::btf::BtfHandle;
use rawbpf::inspect::{self, XlatedDump};
use rawbpf::link::{Link, LinkDetails};
use rawbpf::map::Map;
use rawbpf::prog::Program;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "-j" || a == "--json");
    args.retain(|a| a != "-j" && a != "--json");
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match words.as_slice() {
        ["prog", "list"] | ["prog"] | ["prog", "show"] => prog_list(json),
        ["prog", "show", "id", id] => id_arg(id).and_then(|id| prog_show(id, json)),
        ["prog", "dump", "xlated", "id", id] => id_arg(id).and_then(|id| prog_dump(id, json)),
        ["map", "list"] | ["map"] | ["map", "show"] => map_list(json),
        ["map", "dump", "id", id] => id_arg(id).and_then(|id| map_dump(id, json)),
        ["link", "list"] | ["link"] | ["link", "show"] => link_list(json),
        ["btf", "list"] | ["btf"] | ["btf", "show"] => btf_list(json),
        ["btf", "dump", "id", id] => id_arg(id).and_then(btf_dump),
        ["net", "list"] | ["net"] | ["net", "show"] => net_list(json),
        _ => {
            eprintln!(
                "usage: bpfinfo [-j] prog list | prog show id N | prog dump xlated id N | \
                 map list | map dump id N | link list | btf list | btf dump id N | net list"
            );
            return ExitCode::from(2);
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpfinfo: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

fn id_arg(s: &str) -> Result<u32, Box<dyn std::error::Error>> {
    s.parse().map_err(|_| format!("not an id: {s:?}").into())
}

/// Every id of a walk, skipping objects that vanish before they are opened.
fn each<T>(
    ids: impl Iterator<Item = rawbpf::Result<u32>>,
    open: impl Fn(u32) -> rawbpf::Result<T>,
) -> Result<Vec<T>, Box<dyn std::error::Error>> {
    let mut v = Vec::new();
    for id in ids {
        match open(id?) {
            Ok(t) => v.push(t),
            Err(e) if e.errno() == Some(rawbpf::sys::Errno::ENOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(v)
}

fn print_prog(prog: &Program, holders: &inspect::Holders, json: bool) -> Res {
    let pids = holders.prog(prog.info()?.id);
    if json {
        print!("{}", inspect::prog_show_json(prog, pids)?);
    } else {
        print!("{}", inspect::prog_show_text(prog, pids)?);
    }
    Ok(())
}

fn prog_list(json: bool) -> Res {
    let holders = inspect::holders()?;
    let progs = each(Program::ids(), Program::from_id)?;
    if json {
        print!("[");
    }
    for (i, p) in progs.iter().enumerate() {
        if json && i > 0 {
            print!(",");
        }
        print_prog(p, &holders, json)?;
    }
    if json {
        println!("]");
    }
    Ok(())
}

fn prog_show(id: u32, json: bool) -> Res {
    let prog = Program::from_id(id)?;
    print_prog(&prog, &inspect::holders()?, json)?;
    if json {
        println!();
    }
    Ok(())
}

fn prog_dump(id: u32, json: bool) -> Res {
    let prog = Program::from_id(id)?;
    let dump = XlatedDump::of_program(&prog)?;
    if json {
        println!("{}", dump.to_json());
    } else {
        print!("{dump}");
    }
    Ok(())
}

fn map_list(json: bool) -> Res {
    let holders = inspect::holders()?;
    let maps = each(Map::ids(), Map::from_id)?;
    if json {
        print!("[");
    }
    for (i, m) in maps.iter().enumerate() {
        let pids = holders.map(m.info()?.id);
        if json {
            if i > 0 {
                print!(",");
            }
            print!("{}", inspect::map_show_json(m, pids)?);
        } else {
            print!("{}", inspect::map_show_text(m, pids)?);
        }
    }
    if json {
        println!("]");
    }
    Ok(())
}

fn map_dump(id: u32, json: bool) -> Res {
    let map = Map::from_id(id)?;
    if json {
        println!("{}", inspect::map_dump_json(&map)?);
    } else {
        print!("{}", inspect::map_dump_text(&map)?);
    }
    Ok(())
}

fn link_list(json: bool) -> Res {
    let links = each(Link::ids(), Link::from_id)?;
    let mut out = Vec::new();
    for l in &links {
        let info = l.info()?;
        let details = format!("{:?}", info.details);
        if json {
            out.push(serde_json::json!({
                "id": info.id, "type": format!("{:?}", info.link_type),
                "prog_id": info.prog_id, "details": details,
            }));
        } else {
            println!(
                "{}: {:?}  prog {}\n\t{details}",
                info.id, info.link_type, info.prog_id
            );
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(out));
    }
    Ok(())
}

fn btf_list(json: bool) -> Res {
    let users = inspect::BtfUsers::read()?;
    if json {
        print!("[");
    }
    let mut first = true;
    for id in BtfHandle::ids()? {
        let Ok(h) = BtfHandle::from_id(id) else {
            continue; // gone
        };
        if json {
            if !first {
                print!(",");
            }
            print!("{}", inspect::btf_show_json(&h, &users)?);
        } else {
            print!("{}", inspect::btf_show_text(&h, &users)?);
        }
        first = false;
    }
    if json {
        println!("]");
    }
    Ok(())
}

fn btf_dump(id: u32) -> Res {
    let btf = BtfHandle::from_id(id)?.to_btf()?;
    print!("{}", rawbpf::btf::dump_raw(&btf));
    Ok(())
}

fn ifname(ifindex: u32) -> String {
    nix::net::if_::if_indextoname(ifindex)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("if{ifindex}"))
}

fn net_list(json: bool) -> Res {
    let links = each(Link::ids(), Link::from_id)?;
    let mut out = Vec::new();
    for l in &links {
        let info = l.info()?;
        let (kind, dev) = match &info.details {
            LinkDetails::Xdp { ifindex } if *ifindex != 0 => ("xdp".to_string(), ifname(*ifindex)),
            LinkDetails::IdAttach {
                id_or_ifindex,
                attach_type,
            } if format!("{attach_type:?}").contains("TCX")
                || format!("{attach_type:?}").contains("NETKIT") =>
            {
                (
                    format!("{attach_type:?}").to_ascii_lowercase(),
                    ifname(*id_or_ifindex),
                )
            }
            LinkDetails::Netfilter {
                pf,
                hooknum,
                priority,
            } => (
                "netfilter".to_string(),
                format!("pf {pf} hook {hooknum} prio {priority}"),
            ),
            _ => continue,
        };
        if json {
            out.push(serde_json::json!({
                "kind": kind, "dev": dev, "prog_id": info.prog_id, "link_id": info.id,
            }));
        } else {
            println!(
                "{kind}: {dev}  prog_id {}  link_id {}",
                info.prog_id, info.id
            );
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(out));
    }
    Ok(())
}
