//! The hostile-archive table: each case is a name, a builder, and the expected outcome as data.
//!
//! `error` is the exact [`ArchiveError::class`] (or `None` for a clean read), `problems` the
//! exact list of [`NameProblem`] classes in member order, `members` how many members are listed
//! (before the defect, for a lenient read), and `exit` the code of `packtest inspect`:
//! 0 clean, 1 damaged or unsafe, 2 not an archive at all. Ids in `about` refer to the catalog
//! in `hostile-inputs.md` (R-…).

use packtest::archive::{Manifest, MemberKind};
use packtest::RawPath;

use crate::blocks::*;

/// What reading a case must give.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub error: Option<&'static str>,
    pub problems: &'static [&'static str],
    pub members: usize,
    pub exit: i32,
}

/// An extra check on the manifest (field values the table cannot express).
pub type Check = fn(&Manifest) -> Result<(), String>;

/// One hostile archive.
pub struct Case {
    pub name: &'static str,
    pub about: &'static str,
    pub build: fn() -> Vec<u8>,
    pub expect: Expect,
    /// `--max-unpacked` for this case.
    pub max_unpacked: Option<u64>,
    pub check: Option<Check>,
    /// The tree-rule findings `packtest check --archive` adds (DESIGN §3): `empty-model-dir`,
    /// `nested-model-root`, `special-file`, `symlink-escape`, … The `archive-damaged` and
    /// `unsafe-member-name` findings are derived from `expect`.
    pub tree: &'static [&'static str],
}

const fn ok(members: usize) -> Expect {
    Expect {
        error: None,
        problems: &[],
        members,
        exit: 0,
    }
}

const fn unsafe_names(problems: &'static [&'static str], members: usize) -> Expect {
    Expect {
        error: None,
        problems,
        members,
        exit: 1,
    }
}

const fn damaged(error: &'static str, members: usize) -> Expect {
    Expect {
        error: Some(error),
        problems: &[],
        members,
        exit: 1,
    }
}

const fn not_archive() -> Expect {
    Expect {
        error: Some("not-an-archive"),
        problems: &[],
        members: 0,
        exit: 2,
    }
}

fn c(name: &'static str, about: &'static str, build: fn() -> Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        about,
        build,
        expect,
        max_unpacked: None,
        check: None,
        tree: &[],
    }
}

impl Case {
    fn limit(mut self, n: u64) -> Self {
        self.max_unpacked = Some(n);
        self
    }
    fn check(mut self, f: Check) -> Self {
        self.check = Some(f);
        self
    }
    fn tree(mut self, codes: &'static [&'static str]) -> Self {
        self.tree = codes;
        self
    }
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn gzt(t: Tar) -> Vec<u8> {
    gz(&t.bytes())
}

/// Bytes 0..n of the gzip of the small tar, for truncation cases.
fn small_gz() -> Vec<u8> {
    gz(&small_tar())
}

/// An old-GNU sparse header: `chunks` (offset, len) in the header, `ext` more chunks in one
/// extension block, and `realsize` given in base-256 (it may exceed 8 GiB).
fn gnu_sparse(name: &[u8], chunks: &[(u64, u64)], ext: &[(u64, u64)], realsize: u128) -> Tar {
    let stored: u64 = chunks.iter().chain(ext).map(|c| c.1).sum();
    let mut h = hdr(name, b'S', stored).gnu();
    for (i, (off, len)) in chunks.iter().enumerate() {
        let at = 386 + i * 24;
        h = h
            .raw_at(at, format!("{off:011o}\0").as_bytes())
            .raw_at(at + 12, format!("{len:011o}\0").as_bytes());
    }
    h = h.raw_at(482, &[u8::from(!ext.is_empty())]);
    h = h.raw_at(483, &base256(realsize, false));
    let mut t = Tar::new().raw(&h.block());
    if !ext.is_empty() {
        let mut e = [0u8; BLOCK];
        for (i, (off, len)) in ext.iter().enumerate() {
            let at = i * 24;
            e[at..at + 12].copy_from_slice(format!("{off:011o}\0").as_bytes());
            e[at + 12..at + 24].copy_from_slice(format!("{len:011o}\0").as_bytes());
        }
        t = t.raw(&e);
    }
    t.raw(&pad(vec![b'S'; stored as usize]))
}

/// Every case. Builders run at test time; nothing is checked in.
pub fn cases() -> Vec<Case> {
    vec![
        // ---- path traversal (R-PATH-*) ----
        c("dotdot-prefix", "R-PATH-DOTDOT: `../evil.txt`",
            || gzt(Tar::new().file(b"../evil.txt", b"pwned").end()),
            unsafe_names(&["parent-dir"], 1))
            .tree(&["nested-model-root"]),
        c("dotdot-inner", "R-PATH-DOTDOT: `a/../../evil.txt` climbs out after a normal part",
            || gzt(Tar::new().file(b"a/../../evil.txt", b"pwned").end()),
            unsafe_names(&["parent-dir"], 1))
            .tree(&["nested-model-root"]),
        c("dotdot-last", "R-PATH-DOTDOT: `..` as the last part of a directory name",
            || gzt(Tar::new().dir(b"sub/../..").end()),
            unsafe_names(&["parent-dir"], 1))
            .tree(&["empty-model-dir", "nested-model-root"]),
        c("dotdot-lookalike", "control: `a..b/c..` is a legal name, not a traversal",
            || gzt(Tar::new().file(b"a..b/c..", b"ok").end()),
            ok(1))
            .tree(&["nested-model-root"]),
        c("dotdot-pax-path", "R-PATH-DOTDOT via pax: harmless ustar name, `path=../paxevil`",
            || gzt(Tar::new().pax(&[("path", b"../paxevil")]).file(b"harmless", b"x").end()),
            unsafe_names(&["parent-dir"], 1))
            .tree(&["nested-model-root"]),
        c("dotdot-gnu-longname", "R-PATH-DOTDOT via a GNU `L` record longer than 100 bytes",
            || gzt(Tar::new().gnu_long(b'L', (["../"; 40].concat() + "tmp/longname-evil").as_bytes()).file(b"short", b"x").end()),
            unsafe_names(&["parent-dir"], 1))
            .tree(&["nested-model-root"]),
        c("absolute", "R-PATH-ABS: `/etc/cron.d/evil`",
            || gzt(Tar::new().file(b"/etc/cron.d/evil", b"* * * * * root sh").end()),
            unsafe_names(&["absolute"], 1))
            .tree(&["nested-model-root"]),
        c("absolute-double-slash", "R-PATH-ABS: `//tmp/x`",
            || gzt(Tar::new().file(b"//tmp/x", b"x").end()),
            unsafe_names(&["absolute"], 1)),
        c("windows-drive-backslash", "R-PATH-WIN: `C:\\evil.txt`",
            || gzt(Tar::new().file(b"C:\\evil.txt", b"x").end()),
            unsafe_names(&["windows-drive", "backslash"], 1)),
        c("windows-drive-slash", "R-PATH-WIN: `C:/evil.txt`",
            || gzt(Tar::new().file(b"C:/evil.txt", b"x").end()),
            unsafe_names(&["windows-drive"], 1))
            .tree(&["nested-model-root"]),
        c("backslash-dotdot", "R-PATH-WIN: `..\\..\\evil.txt` (one component on Unix, a traversal on Windows)",
            || gzt(Tar::new().file(b"..\\..\\evil.txt", b"x").end()),
            unsafe_names(&["backslash"], 1)),
        // ---- links (R-SYMLINK-*, R-HARDLINK-*) ----
        c("symlink-absolute", "R-SYMLINK: `lnk -> /etc/passwd`",
            || gzt(Tar::new().symlink(b"lnk", b"/etc/passwd").end()),
            unsafe_names(&["link-escape"], 1))
            .tree(&["empty-model-dir", "symlink-escape"]),
        c("symlink-then-write-through", "R-SYMLINK-THEN-FILE: `lnk -> /tmp/x`, then `lnk/pwn.txt`",
            || gzt(Tar::new().symlink(b"lnk", b"/tmp/x").file(b"lnk/pwn.txt", b"pwned").end()),
            unsafe_names(&["link-escape", "through-symlink"], 2))
            .tree(&["symlink-escape"]),
        c("symlink-dotdot-then-mkdir", "R-SYMLINK-MKDIR: `up -> ..`, then `up/a/b/file`",
            || gzt(Tar::new().symlink(b"up", b"..").file(b"up/a/b/file", b"pwned").end()),
            unsafe_names(&["link-escape", "through-symlink"], 2))
            .tree(&["symlink-escape"]),
        c("symlink-inside-then-write", "a member under an earlier symlink that stays inside: extraction order decides the result",
            || gzt(Tar::new().dir(b"sub").symlink(b"lnk", b"sub").file(b"lnk/f", b"x").end()),
            unsafe_names(&["through-symlink"], 3)),
        c("symlink-deep-escape", "`a/b/lnk -> ../../../x` climbs one level above the root",
            || gzt(Tar::new().symlink(b"a/b/lnk", b"../../../x").end()),
            unsafe_names(&["link-escape"], 1))
            .tree(&["empty-model-dir", "nested-model-root", "symlink-escape"]),
        c("symlink-deep-inside", "control: `a/b/lnk -> ../../x` stays at the root",
            || gzt(Tar::new().symlink(b"a/b/lnk", b"../../x").end()),
            ok(1))
            .tree(&["dangling-symlink", "empty-model-dir", "nested-model-root"]),
        c("symlink-then-regular", "`lnk -> /tmp/victim`, then a regular `lnk` (Python fully_trusted writes the victim)",
            || gzt(Tar::new().symlink(b"lnk", b"/tmp/victim").file(b"lnk", b"pwned").end()),
            unsafe_names(&["link-escape", "duplicate"], 2)),
        c("hardlink-absolute", "R-HARDLINK: `hl -> /etc/shadow`",
            || gzt(Tar::new().hardlink(b"hl", b"/etc/shadow").end()),
            unsafe_names(&["link-escape"], 1)),
        c("hardlink-dotdot-then-write", "R-HARDLINK: `hl -> ../victim`, then a regular `hl` writes through it",
            || gzt(Tar::new().hardlink(b"hl", b"../victim").file(b"hl", b"pwned").end()),
            unsafe_names(&["link-escape", "duplicate"], 2)),
        c("gnu-longlink-escape", "a GNU `K` record carries a long escaping symlink target",
            || gzt(Tar::new().gnu_long(b'K', ["../"; 50].concat().as_bytes()).symlink(b"lnk", b"short").end()),
            unsafe_names(&["link-escape"], 1))
            .tree(&["empty-model-dir", "symlink-escape"]),
        // ---- special files and modes (R-DEVICE, R-MODE) ----
        c("char-device", "R-DEVICE: a character device 1,5 (/dev/zero)",
            || gzt(Tar::new().entry(hdr(b"zero", b'3', 0).mode(0o666).dev(1, 5), b"").end()),
            unsafe_names(&["device"], 1))
            .tree(&["empty-model-dir", "special-file"]),
        c("block-device", "R-DEVICE: a block device 8,0 (a disk)",
            || gzt(Tar::new().entry(hdr(b"sda", b'4', 0).mode(0o660).dev(8, 0), b"").end()),
            unsafe_names(&["device"], 1))
            .tree(&["empty-model-dir", "special-file"]),
        c("fifo", "a FIFO: stored as its type, allowed by the `special-files` property",
            || gzt(Tar::new().entry(hdr(b"pipe", b'6', 0), b"").end()),
            ok(1))
            .tree(&["empty-model-dir", "special-file"]),
        c("setuid", "R-MODE: a setuid-root executable (mode 4755)",
            || gzt(Tar::new().entry(hdr(b"bin/su", b'0', 2).mode(0o4755), b"#!").end()),
            unsafe_names(&["setuid"], 1))
            .tree(&["nested-model-root"]),
        c("setgid", "R-MODE: a setgid file (mode 2755)",
            || gzt(Tar::new().entry(hdr(b"bin/sg", b'0', 2).mode(0o2755), b"#!").end()),
            unsafe_names(&["setgid"], 1))
            .tree(&["nested-model-root"]),
        c("setgid-dir", "control: a setgid directory (group inheritance on shared file systems)",
            || gzt(Tar::new().entry(hdr(b"shared", b'5', 0).mode(0o2775), b"").end()),
            ok(1))
            .tree(&["empty-model-dir"]),
        // ---- sizes (R-BOMB, R-SPARSE, R-PAX-SIZE, R-NUMBER) ----
        c("gzip-bomb", "R-BOMB: 512 MiB of zeros in ~0.5 MB (ratio > 1000:1), stopped by --max-unpacked 8M",
            || gz_zeros(&hdr(b"zeros.bin", b'0', 512 << 20).block(), 512 << 20, &[0; 1024]),
            damaged("unpacked-limit", 0)).limit(8 << 20)
            .tree(&["empty-model-dir"]),
        c("gzip-bomb-members", "R-BOMB: 256 gzip members of 4 MiB of zeros each, stopped by --max-unpacked 8M",
            || {
                let mut v = gz(&hdr(b"zeros.bin", b'0', 1 << 30).block());
                let m = gz_level(&vec![0u8; 4 << 20], 9);
                for _ in 0..256 {
                    v.extend_from_slice(&m);
                }
                v
            },
            damaged("unpacked-limit", 0)).limit(8 << 20)
            .tree(&["empty-model-dir"]),
        c("gnu-sparse-huge", "R-SPARSE: an old-GNU sparse member claiming 1 TiB with 512 stored bytes: listed, never expanded",
            || gzt(gnu_sparse(b"huge.bin", &[(1 << 40, 512)], &[], (1u128 << 40) + 512).end()),
            ok(1)).check(|m| ensure(m.members[0].kind == MemberKind::Other(b'S'), || format!("{:?}", m.members[0].kind)))
            .tree(&["zero-byte-model-file"]),
        c("gnu-sparse-extended", "R-SPARSE: an old-GNU sparse member whose map fills the header's 4 slots and continues in an extension block",
            || gzt(gnu_sparse(b"sparse.bin", &[(0, 512), (1024, 512), (2048, 512), (3072, 512)], &[(4096, 512)], 4608).file(b"after.txt", b"after").end()),
            ok(2)).check(|m| ensure(m.members[1].path == RawPath::from("after.txt"), || format!("{:?}", m.members[1].path)))
            .tree(&["zero-byte-model-file"]),
        c("pax-size-override", "R-PAX-SIZE (TARmageddon): ustar size 0, pax size 1024; the data holds a smuggled header",
            || {
                let inner = Tar::new().file(b"smuggled", b"evil").bytes();
                gzt(Tar::new().pax(&[("size", b"1024")]).entry(hdr(b"outer", b'0', 0), &inner[..1024]).end())
            },
            ok(1)).check(|m| ensure(m.members[0].size == 1024, || format!("size {}", m.members[0].size))),
        c("pax-size-negative", "R-PAX-SIZE: `size=-1`",
            || gzt(Tar::new().pax(&[("size", b"-1")]).file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-size-overflow", "R-PAX-SIZE: `size=99999999999999999999` (over 2^64)",
            || gzt(Tar::new().pax(&[("size", b"99999999999999999999")]).file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-size-u64-max", "R-PAX-SIZE: `size=18446744073709551615` (fits u64, but its padding does not)",
            || gzt(Tar::new().pax(&[("size", b"18446744073709551615")]).file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("base256-size-negative", "R-NUMBER: a negative base-256 size",
            || gzt(Tar::new().entry(hdr(b"f", b'0', 0).size_raw(base256(1, true)), b"").end()),
            damaged("bad-number", 0))
            .tree(&["empty-model-dir"]),
        c("base256-size-overflow", "R-NUMBER: a base-256 size over 2^64",
            || gzt(Tar::new().entry(hdr(b"f", b'0', 0).size_raw(base256(1u128 << 70, false)), b"").end()),
            damaged("bad-number", 0))
            .tree(&["empty-model-dir"]),
        c("base256-size-u64-max", "R-NUMBER: a base-256 size of 2^64-1 (padding overflows)",
            || gzt(Tar::new().entry(hdr(b"f", b'0', 0).size_raw(base256(u128::from(u64::MAX), false)), b"").end()),
            damaged("bad-number", 0))
            .tree(&["empty-model-dir"]),
        c("octal-size-garbage", "R-NUMBER: size field `0000012x4`",
            || gzt(Tar::new().entry(hdr(b"f", b'0', 0).size_raw(*b"0000012x4\0\0\0"), b"").end()),
            damaged("bad-number", 0))
            .tree(&["empty-model-dir"]),
        c("size-past-eof", "a size of 8 GiB-1 with 10 bytes of data",
            || gzt(Tar::new().entry(hdr(b"big.bin", b'0', 0o77777777777), b"0123456789")),
            damaged("tar-truncated", 0))
            .tree(&["empty-model-dir"]),
        // ---- gzip framing (R-GZIP-*) ----
        c("gzip-truncated-deflate", "R-GZIP-TRUNC: the stream cut in the middle of the deflate data",
            || { let g = small_gz(); g[..g.len() / 2].to_vec() },
            damaged("gzip-truncated", 0))
            .tree(&["empty-model-dir"]),
        c("gzip-truncated-trailer", "R-GZIP-TRUNC: the 8-byte trailer cut to 4",
            || { let g = small_gz(); g[..g.len() - 4].to_vec() },
            damaged("gzip-truncated", 2)),
        c("gzip-header-only", "R-GZIP-TRUNC: a 10-byte gzip header and nothing else",
            || small_gz()[..10].to_vec(),
            damaged("gzip-truncated", 0))
            .tree(&["empty-model-dir"]),
        c("gzip-fextra-truncated", "an FEXTRA field announcing 65535 bytes in a 16-byte file",
            || vec![0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2, 3, 4],
            damaged("gzip-truncated", 0))
            .tree(&["empty-model-dir"]),
        c("gzip-bad-crc", "R-GZIP-CRC: the CRC32 trailer flipped (Python and tar-rs never check it)",
            || { let mut g = small_gz(); let n = g.len(); g[n - 8] ^= 0xff; g },
            damaged("gzip-crc", 2)),
        c("gzip-bad-isize", "R-GZIP-ISIZE: the ISIZE trailer off by one",
            || { let mut g = small_gz(); let n = g.len(); g[n - 4] ^= 1; g },
            damaged("gzip-isize", 2)),
        c("gzip-bad-method", "compression method 7 instead of deflate",
            || { let mut g = small_gz(); g[2] = 7; g },
            Expect { error: Some("gzip-header"), problems: &[], members: 0, exit: 1 })
            .tree(&["empty-model-dir"]),
        c("gzip-reserved-flags", "reserved FLG bits set",
            || { let mut g = small_gz(); g[3] |= 0xe0; g },
            damaged("gzip-header", 0))
            .tree(&["empty-model-dir"]),
        c("gzip-bad-block-type", "deflate block type 3 (reserved)",
            || vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0, 0, 0, 0, 0, 0, 0],
            damaged("deflate-corrupt", 0))
            .tree(&["empty-model-dir"]),
        c("gzip-concatenated", "R-GZIP-MULTI: one tar split over two gzip members (valid: gzip(1) and pigz do this)",
            || { let t = small_tar(); let (a, b) = t.split_at(700); [gz(a), gz(b)].concat() },
            ok(2)).check(|m| ensure(m.gzip_members == 2, || format!("{} members", m.gzip_members))),
        c("gzip-two-tars", "R-GZIP-MULTI: two whole tars in two members: readers that stop at the first end marker miss the second",
            || [small_gz(), gzt(Tar::new().file(b"hidden.bin", b"second archive").end())].concat(),
            damaged("trailing-garbage", 2)),
        c("gzip-trailing-garbage", "R-GZIP-TRAIL: text after the last member",
            || [small_gz(), b"garbage after the trailer".to_vec()].concat(),
            damaged("trailing-garbage", 2)),
        c("gzip-trailing-zeros", "1 KiB of zeros after the last member (tape padding); still not gzip",
            || [small_gz(), vec![0u8; 1024]].concat(),
            damaged("trailing-garbage", 2)),
        c("gzip-nested", "a gzip inside a gzip: the inner stream is not a tar",
            || gz(&gzt(Tar::new().file(b"w.bin", &random(1, 4096)).end())),
            damaged("header-checksum", 0))
            .tree(&["empty-model-dir"]),
        // ---- tar framing (R-TAR-*) ----
        c("bad-header-checksum", "R-TAR-CKSUM: the first header's checksum off by one",
            || gzt(Tar::new().entry(hdr(b"f", b'0', 1).bad_checksum(1), b"x").end()),
            damaged("header-checksum", 0))
            .tree(&["empty-model-dir"]),
        c("bad-header-checksum-second", "R-TAR-CKSUM: a good member, then a header with a wrong checksum",
            || gzt(Tar::new().file(b"good", b"x").entry(hdr(b"bad", b'0', 1).bad_checksum(-3), b"x").end()),
            damaged("header-checksum", 1)),
        c("missing-end-marker", "R-TAR-EOF: the members, then EOF without zero blocks",
            || gzt(Tar::new().file(b"model.pt", b"weights")),
            damaged("missing-end-marker", 1)),
        c("lone-zero-block-at-end", "R-TAR-EOF: one zero block instead of two",
            || gzt(Tar::new().file(b"model.pt", b"weights").raw(&[0; BLOCK])),
            damaged("missing-end-marker", 1)),
        c("lone-zero-block-mid", "a zero block between members (Python stops there, GNU tar warns and goes on)",
            || gzt(Tar::new().file(b"a", b"x").raw(&[0; BLOCK]).file(b"b", b"y").end()),
            damaged("missing-end-marker", 1)),
        c("tar-truncated-data", "R-TAR-TRUNC: a plain tar cut inside a member's data",
            || Tar::new().file(b"big.bin", &[7u8; 5000]).end().bytes()[..2048].to_vec(),
            damaged("tar-truncated", 0))
            .tree(&["empty-model-dir"]),
        c("tar-truncated-header", "R-TAR-TRUNC: a plain tar cut inside the second header",
            || Tar::new().file(b"a", b"x").file(b"b", b"y").end().bytes()[..1024 + 300].to_vec(),
            damaged("tar-truncated", 1)),
        c("tar-trailing-garbage", "R-TAR-TRAIL: bytes after the end-of-archive marker of a plain tar",
            || Tar::new().file(b"a", b"x").end().raw(b"junk").bytes(),
            damaged("trailing-garbage", 1)),
        c("tar-record-padding", "control: 10 KiB of zero padding after the marker (GNU tar's record size)",
            || gzt(Tar::new().file(b"a", b"x").end().raw(&[0; 10240])),
            ok(1)),
        c("v7-header", "control: a pre-POSIX v7 header (no magic) in a plain tar",
            || Tar::new().entry(hdr(b"old.txt", b'0', 3).v7(), b"old").end().bytes(),
            ok(1)),
        // ---- long names and pax records (R-LONGNAME, R-PAX-*) ----
        c("gnu-longname", "a GNU `L` name of 304 bytes (150 directory levels)",
            || gzt(Tar::new().gnu_long(b'L', ("d/".repeat(150) + "file").as_bytes()).file(b"short", b"x").end()),
            ok(1)).check(|m| ensure(m.members[0].path.as_bytes().len() == 304, || format!("{}", m.members[0].path)))
            .tree(&["nested-model-root"]),
        c("gnu-longname-chain", "200 `L` records in a row before one header (libarchive's redundant_L): the last one names it",
            || {
                let mut t = Tar::new();
                for i in 0..200 {
                    t = t.gnu_long(b'L', format!("chain-{i:03}-{}", "x".repeat(4000)).as_bytes());
                }
                gzt(t.file(b"short", b"x").end())
            },
            ok(1)).check(|m| ensure(m.members[0].path.as_bytes().starts_with(b"chain-199-"), || format!("{}", m.members[0].path))),
        c("gnu-longname-oversize", "a GNU `L` record of 2 MiB (over the 1 MiB metadata cap)",
            || gzt(Tar::new().gnu_long(b'L', &vec![b'n'; 2 << 20]).file(b"short", b"x").end()),
            damaged("metadata-too-large", 0))
            .tree(&["empty-model-dir"]),
        c("gnu-longname-then-eof", "a GNU `L` record and then the end of the stream",
            || gzt(Tar::new().gnu_long(b'L', b"orphan-name")),
            damaged("missing-end-marker", 0))
            .tree(&["empty-model-dir"]),
        c("pax-long-record", "a pax `path` of 900 KiB (under the 1 MiB cap; one component, so extractors fail with ENAMETOOLONG)",
            || gzt(Tar::new().pax(&[("path", &vec![b'p'; 900 << 10])]).file(b"short", b"x").end()),
            ok(1)).check(|m| ensure(m.members[0].path.as_bytes().len() == 900 << 10, || "wrong length".into())),
        c("pax-oversize", "a pax header of 2 MiB (over the metadata cap)",
            || gzt(Tar::new().pax(&[("comment", &vec![b'c'; 2 << 20])]).file(b"short", b"x").end()),
            damaged("metadata-too-large", 0))
            .tree(&["empty-model-dir"]),
        c("pax-lying-length", "R-PAX-LEN: a record whose length (99) overruns the header",
            || gzt(Tar::new().pax_raw(b'x', b"99 path=abc\n").file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-short-length", "R-PAX-LEN: a record whose length (8) ends inside its text",
            || gzt(Tar::new().pax_raw(b'x', b"8 path=abcdef\n").file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-length-not-a-number", "R-PAX-LEN: `x path=abc`",
            || gzt(Tar::new().pax_raw(b'x', b"x path=abc\n").file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-no-equals", "a pax record without `=`",
            || gzt(Tar::new().pax_raw(b'x', b"11 pathabc\n").file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-bad-mtime", "a pax `mtime` that is not a number",
            || gzt(Tar::new().pax(&[("mtime", b"yesterday")]).file(b"f", b"x").end()),
            damaged("pax-record", 0))
            .tree(&["empty-model-dir"]),
        c("pax-header-then-eof", "a pax header and then the end of the stream",
            || gzt(Tar::new().pax(&[("path", b"orphan")])),
            damaged("missing-end-marker", 0))
            .tree(&["empty-model-dir"]),
        // ---- duplicates (R-DUP) ----
        c("duplicate-override", "R-DUP: `a.txt` twice with different data; extractors keep the later one",
            || gzt(Tar::new().file(b"model.pt", b"real weights").file(b"model.pt", b"poison").end()),
            unsafe_names(&["duplicate"], 2)),
        c("duplicate-dot-slash", "R-DUP: `model.pt` and `./model.pt` name the same file",
            || gzt(Tar::new().file(b"model.pt", b"a").file(b"./model.pt", b"b").end()),
            unsafe_names(&["duplicate"], 2)),
        c("duplicate-root-entries", "control: `./` and `` are both the root entry, not a duplicate file",
            || gzt(Tar::new().dir(b"./").dir(b"").file(b"a", b"x").end()),
            ok(3)),
        // ---- names and degenerate archives ----
        c("non-utf8-name", "F-NONUTF8: name bytes `bad\\xff\\xfe.bin` kept exactly",
            || gzt(Tar::new().file(b"bad\xff\xfe.bin", b"x").end()),
            ok(1)).check(|m| ensure(m.members[0].path.as_bytes() == b"bad\xff\xfe.bin", || format!("{:?}", m.members[0].path))),
        c("terminal-escape-name", "a name with ESC sequences and a newline: `inspect` must escape them",
            || gzt(Tar::new().file(b"\x1b[2J\x1b[31mred\nline", b"x").end()),
            ok(1)),
        c("empty-file", "a 0-byte file",
            Vec::new,
            not_archive()),
        c("empty-tar", "control: a tar of only the end marker",
            || Tar::new().end().bytes(),
            ok(0))
            .tree(&["empty-model-dir"]),
        c("empty-tar-gz", "control: a gzipped tar of only the end marker (what an empty model dir gives)",
            || gzt(Tar::new().end()),
            ok(0))
            .tree(&["empty-model-dir"]),
        c("empty-gzip", "a gzip stream of zero bytes",
            || gz(b""),
            damaged("missing-end-marker", 0))
            .tree(&["empty-model-dir"]),
        c("zero-length-member", "control: a zero-length file",
            || gzt(Tar::new().file(b"empty.bin", b"").end()),
            ok(1)).check(|m| ensure(m.members[0].size == 0 && m.members[0].sha256.is_some(), || format!("{:?}", m.members[0])))
            .tree(&["zero-byte-model-file"]),
        c("not-gzip-text", "not an archive at all: plain text",
            || b"hello, this is a model card, not an archive\n".to_vec(),
            not_archive()),
        c("not-gzip-zip", "a zip file named model.tar.gz",
            || [b"PK\x03\x04".as_slice(), &[0u8; 600]].concat(),
            not_archive()),
        c("not-gzip-random", "4 KiB of seeded random bytes",
            || random(2, 4096),
            not_archive()),
    ]
}
