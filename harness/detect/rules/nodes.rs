//! Rules on a node's type and permissions: `special-file`, `unreadable-file`,
//! `unreadable-by-server`.

use super::ctx::Ctx;
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix;
use crate::detect::tree::NodeKind;

/// `unreadable-by-server`: on a target whose server may run as a non-root user,
/// a file others cannot read or a directory others cannot list or enter.
pub(crate) fn unreadable_by_server(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !c.opts.target.spec().needs_world_readable {
        return;
    }
    for (p, n) in c.t.nodes.iter().filter(|(_, n)| n.readable) {
        let Some(mode) = n.mode else { continue };
        let what = match n.kind {
            NodeKind::File if mode & 0o004 == 0 => "file others cannot read",
            NodeKind::Dir if mode & 0o005 != 0o005 => "directory others cannot list or enter",
            _ => continue,
        };
        out.push(c.finding(
            Code::UnreadableByServer,
            Some(p.clone()),
            format!("`{p}` is a {what} (mode {mode:04o}, as written under umask 077): the {} server may run as a non-root user and then cannot load it", c.opts.target),
            fix::UNREADABLE_BY_SERVER,
        ));
    }
}

/// True for a FIFO, socket or device node.
fn is_special(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Fifo | NodeKind::Socket | NodeKind::Device)
}

/// `special-file`: a FIFO, socket or device node.
pub(crate) fn special_file(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, n) in c.t.nodes.iter().filter(|(_, n)| is_special(n.kind)) {
        let what = match n.kind {
            NodeKind::Fifo => "FIFO",
            NodeKind::Socket => "socket",
            _ => "device",
        };
        out.push(c.finding(
            Code::SpecialFile,
            Some(p.clone()),
            format!("`{p}` is a {what} (a logger's pipe or socket?): packagers hang on it, drop it, or fail (SageMaker local mode fails on FIFOs and sockets)"),
            fix::special_file(n.kind, c.root),
        ));
    }
}

/// `unreadable-file`: a node (not a special file) the current user cannot read.
pub(crate) fn unreadable_file(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, n) in c.t.nodes.iter() {
        if is_special(n.kind) || n.readable {
            continue;
        }
        out.push(c.finding(
            Code::UnreadableFile,
            Some(p.clone()),
            format!("`{p}` cannot be read by this user: the packager will fail on it or skip it"),
            fix::unreadable_file(n.kind, &p.to_string()),
        ));
    }
}
