//! Links against the running kernel: XDP through `LINK_CREATE` on `lo` of a test netns, pin,
//! reopen, info, update, detach, and the kernel forgetting the link once it is gone.

mod common;

use rawbpf::insn::{Insn, Reg};
use rawbpf::link::{AttachTarget, Link, LinkDetails, LinkType, XdpFlags};
use rawbpf::prog::{AttachType, Program, ProgramOptions, ProgramType};

fn xdp_prog(name: &str, ret: i32) -> Program {
    Program::load(
        ProgramType::XDP,
        &[Insn::mov64_imm(Reg::R0, ret), Insn::exit()],
        &ProgramOptions::default().name(name),
    )
    .expect("load xdp")
}

#[test]
fn xdp_link_lifecycle() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let lo = nix::net::if_::if_nametoindex("lo").expect("lo");
        let a = xdp_prog("xdp_a", 2); // XDP_PASS
        let b = xdp_prog("xdp_b", 2);
        let (a_id, b_id) = (a.info().expect("info").id, b.info().expect("info").id);
        let dir = common::PinDir::new("link");

        let link = a.attach_xdp(lo, XdpFlags::SKB_MODE).expect("attach_xdp");
        let info = link.info().expect("info");
        assert_eq!(info.link_type, LinkType::XDP);
        assert_eq!(info.prog_id, a_id);
        assert_eq!(info.details, LinkDetails::Xdp { ifindex: lo });
        let link_id = info.id;
        assert!(Link::ids().any(|id| id.expect("id") == link_id));

        // A second attach on the same device is refused while the link lives.
        let e = b
            .attach_xdp(lo, XdpFlags::SKB_MODE)
            .expect_err("second attach");
        assert!(e.to_string().contains("BPF_LINK_CREATE"), "{e}");

        link.pin(dir.join("l")).expect("pin");
        let again = Link::from_pin(dir.join("l")).expect("from_pin");
        assert_eq!(again.info().expect("info").id, link_id);
        let by_id = Link::from_id(link_id).expect("from_id");
        assert_eq!(
            by_id.info().expect("info").details,
            LinkDetails::Xdp { ifindex: lo }
        );

        // LINK_UPDATE: to b, only if a is attached (BPF_F_REPLACE).
        again.update(&b, Some(&a)).expect("update a -> b");
        assert_eq!(link.info().expect("info").prog_id, b_id);
        let e = again.update(&a, Some(&a)).expect_err("old is no longer a");
        assert!(e.to_string().contains("BPF_LINK_UPDATE"), "{e}");
        again.update(&a, None).expect("update without REPLACE");
        assert_eq!(link.info().expect("info").prog_id, a_id);

        // LINK_DETACH: the device is free again, the fd stays valid.
        link.detach().expect("detach");
        assert_eq!(
            link.info().expect("info").details,
            LinkDetails::Xdp { ifindex: 0 }
        );
        let other = b
            .attach_xdp(lo, XdpFlags::SKB_MODE)
            .expect("attach after detach");
        drop(other);

        // Gone from the kernel once every fd and the pin are gone.
        drop((link, again, by_id));
        std::fs::remove_file(dir.join("l")).expect("unpin");
        let mut listed = true;
        for _ in 0..200 {
            listed = Link::ids().any(|id| id.expect("id") == link_id);
            if !listed {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!listed, "link {link_id} still listed");
        assert!(Link::from_id(link_id).is_err());
    });
}

#[test]
fn raw_link_create() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let lo = nix::net::if_::if_nametoindex("lo").expect("lo");
        let p = xdp_prog("xdp_raw", 2);
        let link = Link::create(
            &p,
            AttachTarget::Ifindex(lo),
            AttachType::XDP,
            XdpFlags::SKB_MODE.bits(),
        )
        .expect("LINK_CREATE");
        assert_eq!(
            link.info().expect("info").details,
            LinkDetails::Xdp { ifindex: lo }
        );
        // A socket filter cannot be attached as XDP.
        let sf = Program::load(
            ProgramType::SOCKET_FILTER,
            &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
            &ProgramOptions::default(),
        )
        .expect("load");
        assert!(sf.attach_xdp(lo, XdpFlags::SKB_MODE).is_err());
    });
}
