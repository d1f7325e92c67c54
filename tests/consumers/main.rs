//! The consumer conformance matrix (issue 14, item 6): `packtest unpack --target T` is
//! packtest's model of how a deploy target's consumer extracts a model.tar.gz; this suite runs
//! the REAL consumers on the same archives and checks that the model agrees with them.
//!
//! Real consumers (run by `tests/consumers/extract.py`, which prints each extraction's tree):
//! - `gnu-tar`: `tar -xf ARCHIVE -C DIR`, GNU tar from Debian, as the current user;
//! - `bsdtar`: `bsdtar -xf ARCHIVE -C DIR` (libarchive-tools);
//! - `py-data`: `tarfile.open(ARCHIVE).extractall(DIR, filter="data")` with the machine's python3;
//! - `sm-sdk`: the SageMaker SDK's own extractor (`sagemaker.core.common_utils.
//!   custom_extractall_tarfile`, used by local mode and `repack_model`), from the venv
//!   `tests/conformance/sdk-venv.sh` makes (target/sdk-venv, or `PACKTEST_SDK_PYTHON`);
//! - `kserve`: `kserve-storage`'s `Storage._unpack_archive_file`, from the venv
//!   `tests/consumers/kserve-venv.sh` makes (target/kserve-venv, or `PACKTEST_KSERVE_PYTHON`).
//!
//! A missing consumer FAILS the test with the install script's name; `tests/setup.sh` installs all.
//!
//! The corpus, built in a temp dir: every scenario of `scenarios/` packed by the reference
//! packager (`packtest pack --target posix`, links stored as links, and `--target sagemaker`)
//! and by GNU tar (`tar -czf OUT -C MODEL_DIR .`); the hostile-archive table of
//! `tests/hostile_archives` (less the cases whose expansion is huge); and [`extra_cases`]:
//! root entries, links inside and out, link loops, hard links, special members, modes,
//! duplicates and type clashes.
//!
//! Pairs (DESIGN §2): target `posix` against `gnu-tar` and `bsdtar` (status, and the tree
//! even when they refuse: both skip what they refuse and extract the rest); target `kserve`
//! against `kserve` and `py-data` (status, and the tree when both extract: on a refusal the
//! deploy fails whatever was written); target `sagemaker` against `sm-sdk` one way only: the
//! hosting code is closed and its model refuses every link and special member, so the check
//! is "when `unpack --target sagemaker` extracts, the SDK's extractor extracts the same tree";
//! when the model refuses, the SDK's behaviour is recorded, not judged.
//!
//! Trees are compared by walking each output dir with lstat: path, type, mode (permission
//! bits with setuid/setgid/sticky), sha256 of files, symlink targets, device numbers, and
//! which files share an inode. extract.py computes the same digest and the test checks that
//! the two walks agree on every real-consumer run.
//!
//! One snapshot, `snapshots/consumers_matrix.snap`, holds per archive and target the model's
//! verdict, each real consumer's (`ok <tree digest>` or `refused: <error>`), and the agreement.
//! Every archive must agree except the entries of [`KNOWN_DISAGREEMENTS`].
//!
//! Root: CI runs as root. GNU tar and bsdtar create device nodes and keep setuid bits and
//! exact modes only as root; as another user they refuse devices (`Cannot mknod`) and apply
//! the umask. So the snapshot is the root one: as non-root the test still runs every consumer
//! and asserts agreement (with the non-root entries of [`KNOWN_DISAGREEMENTS`]) but does not
//! compare the snapshot.
//!
//! `cargo test --test consumers -- --nocapture` prints the matrix and the details of every
//! disagreement (the trees side by side); `CONSUMERS_REPORT=FILE` also writes them to FILE;
//! `CONSUMERS_KEEP=1` keeps the corpus and every output dir (`index.txt` maps run numbers to
//! archive ids).

#[allow(dead_code)]
#[path = "../hostile_archives/blocks.rs"]
mod blocks;
#[allow(dead_code)]
#[path = "../hostile_archives/cases.rs"]
mod cases;
#[path = "../common/unavailable.rs"]
mod unavailable;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use blocks::{gz, hdr, Tar};

/// A disagreement that is inherent, not a bug of the model.
struct Known {
    /// The archive id (as in the snapshot).
    archive: &'static str,
    /// The real consumer.
    consumer: &'static str,
    /// When it applies.
    when: When,
    /// One line, shown in the snapshot.
    why: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    /// Always: GNU tar and bsdtar disagree with each other, and `posix` is one model of both.
    Always,
    /// Only when the test does not run as root (CI runs as root).
    NotRoot,
}

/// The inherent disagreements, and only those:
/// - `Always`: the two real `posix` consumers disagree with each other on the archive, and the
///   model takes one side (GNU tar's, the reference, except where noted), so the other
///   necessarily differs;
/// - `NotRoot`: as non-root, the tar programs cannot create device nodes (mknod needs
///   CAP_MKNOD) and apply the umask, dropping setuid/setgid/sticky bits, while the model
///   describes the root extraction the CI (and a container's entrypoint) does.
const KNOWN_DISAGREEMENTS: &[Known] = &[
    Known {
        archive: "hostile/windows-drive-backslash",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar strips a `C:\\` drive prefix (as on Windows); GNU tar keeps the name literally",
    },
    Known {
        archive: "hostile/windows-drive-slash",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar strips a `C:/` drive prefix; GNU tar makes a dir `C:`",
    },
    Known {
        archive: "hostile/symlink-inside-then-write",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar refuses to extract through any symlink (`Cannot extract through symlink`); GNU tar follows one that stays inside",
    },
    Known {
        archive: "hostile/duplicate-root-entries",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar fails on a member with an empty name; GNU tar takes it as the root",
    },
    Known {
        archive: "hostile/gzip-nested",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar undoes any number of compression layers; GNU tar decompresses once and finds no tar",
    },
    Known {
        archive: "hostile/empty-file",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar extracts a 0-byte file as an empty archive (exit 0); GNU tar refuses it",
    },
    Known {
        archive: "extra/symlink-empty-target",
        consumer: "bsdtar",
        when: When::Always,
        why: "bsdtar turns a symlink with an empty target into an empty regular file; GNU tar fails on it",
    },
    Known {
        archive: "hostile/symlink-then-regular",
        consumer: "gnu-tar",
        when: When::Always,
        why: "GNU tar defers an absolute symlink and re-creates it after the later regular file of that name, which is lost; bsdtar (and the model) keep the file",
    },
    Known {
        archive: "hostile/char-device",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar cannot mknod a char device",
    },
    Known {
        archive: "hostile/char-device",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar cannot mknod a char device",
    },
    Known {
        archive: "hostile/block-device",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar cannot mknod a block device",
    },
    Known {
        archive: "hostile/block-device",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar cannot mknod a block device",
    },
    Known {
        archive: "extra/char-device-null",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar cannot mknod a char device",
    },
    Known {
        archive: "extra/char-device-null",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar cannot mknod a char device",
    },
    Known {
        archive: "hostile/setuid",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar applies the umask and drops setuid",
    },
    Known {
        archive: "hostile/setuid",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar drops setuid",
    },
    Known {
        archive: "hostile/setgid",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar applies the umask and drops setgid",
    },
    Known {
        archive: "hostile/setgid",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar drops setgid",
    },
    Known {
        archive: "hostile/setgid-dir",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar applies the umask and drops setgid",
    },
    Known {
        archive: "hostile/setgid-dir",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar drops setgid",
    },
    Known {
        archive: "extra/mode-sticky-world-dir",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar applies the umask",
    },
    Known {
        archive: "extra/mode-sticky-world-dir",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar applies the umask",
    },
    Known {
        archive: "extra/mode-world-writable",
        consumer: "gnu-tar",
        when: When::NotRoot,
        why: "not root: GNU tar applies the umask",
    },
    Known {
        archive: "extra/mode-world-writable",
        consumer: "bsdtar",
        when: When::NotRoot,
        why: "not root: bsdtar applies the umask",
    },
];

/// Damaged archives (truncated, bad CRC or ISIZE, no end marker, trailing garbage, lying pax
/// records, metadata past packtest's caps): `packtest unpack` refuses each of them for every
/// target, by design, while real consumers often extract what they can — GNU tar extracts the
/// members around the damage and exits 2, and Python's tarfile (KServe, the SDK) ignores the
/// gzip trailer and a missing end marker and exits cleanly. That is the silent failure packtest
/// exists to catch (a truncated `model.tar.gz` that deploys), so the model does not copy it:
/// `valid-gzip` and `valid-tar` fail such an archive in the contract, and `unpack` says it is
/// damaged. Measured on this matrix, each consumer's own verdict stays in the snapshot.
const DAMAGED_BY_DESIGN: &[&str] = &[
    "hostile/bad-header-checksum-second",
    "hostile/empty-gzip",
    "hostile/gnu-longname-then-eof",
    "hostile/gzip-bad-crc",
    "hostile/gzip-bad-isize",
    "hostile/gzip-reserved-flags",
    "hostile/gzip-trailing-garbage",
    "hostile/gzip-trailing-zeros",
    "hostile/gzip-truncated-trailer",
    "hostile/gzip-two-tars",
    "hostile/lone-zero-block-at-end",
    "hostile/lone-zero-block-mid",
    "hostile/missing-end-marker",
    "hostile/pax-bad-mtime",
    "hostile/pax-header-then-eof",
    "hostile/pax-length-not-a-number",
    "hostile/pax-lying-length",
    "hostile/pax-no-equals",
    "hostile/pax-oversize",
    "hostile/pax-short-length",
    "hostile/pax-size-negative",
    "hostile/pax-size-overflow",
    "hostile/pax-size-u64-max",
    "hostile/size-past-eof",
    "hostile/tar-trailing-garbage",
    "hostile/tar-truncated-data",
    "hostile/tar-truncated-header",
];

/// Where the model knowingly stops short of a consumer, for archives no packager under test
/// writes. Each is named here so a change shows up.
const MODEL_LIMITS: &[Known] = &[
    Known {
        archive: "extra/hardlink-then-overwrite",
        consumer: "kserve",
        when: When::Always,
        why: "model limit: Python opens `b` without unlinking it, so a later regular `b` writes through the hard link into `a` too; the model replaces `b` alone, as GNU tar and bsdtar do",
    },
    Known {
        archive: "extra/hardlink-then-overwrite",
        consumer: "py-data",
        when: When::Always,
        why: "model limit: as for kserve (the same tarfile code)",
    },
    Known {
        archive: "extra/hardlink-to-dir",
        consumer: "kserve",
        when: When::Always,
        why: "model limit: when os.link fails on a dir, tarfile extracts the target member again at the link's path (a 0644 dir); the model refuses the link",
    },
    Known {
        archive: "extra/hardlink-to-dir",
        consumer: "py-data",
        when: When::Always,
        why: "model limit: as for kserve",
    },
    Known {
        archive: "extra/hardlink-to-symlink",
        consumer: "kserve",
        when: When::Always,
        why: "model limit: a hard link to a symlink member becomes a second symlink; the model copies the symlink's target file",
    },
    Known {
        archive: "extra/hardlink-to-symlink",
        consumer: "py-data",
        when: When::Always,
        why: "model limit: as for kserve",
    },
    Known {
        archive: "extra/hardlink-to-symlink",
        consumer: "gnu-tar",
        when: When::Always,
        why: "model limit: as for kserve (GNU tar links the symlink itself)",
    },
    Known {
        archive: "extra/hardlink-to-symlink",
        consumer: "bsdtar",
        when: When::Always,
        why: "model limit: as for gnu-tar",
    },
    Known {
        archive: "extra/root-dot-mode-0700",
        consumer: "gnu-tar",
        when: When::Always,
        why: "by design: unpack never changes DIR's own mode; GNU tar chmods it to the `./` member's 0700",
    },
    Known {
        archive: "extra/root-dot-mode-0700",
        consumer: "bsdtar",
        when: When::Always,
        why: "by design: as for gnu-tar",
    },
    Known {
        archive: "extra/unknown-typeflag",
        consumer: "gnu-tar",
        when: When::Always,
        why: "model limit: packtest's reader does not keep the data of an unknown type flag (`Z`); GNU tar extracts it as a regular file",
    },
    Known {
        archive: "extra/unknown-typeflag",
        consumer: "bsdtar",
        when: When::Always,
        why: "model limit: as for gnu-tar",
    },
    Known {
        archive: "extra/unknown-typeflag",
        consumer: "kserve",
        when: When::Always,
        why: "model limit: Python refuses an unknown type flag (SpecialFileError); the model extracts an empty file",
    },
    Known {
        archive: "extra/unknown-typeflag",
        consumer: "py-data",
        when: When::Always,
        why: "model limit: as for kserve",
    },
    Known {
        archive: "hostile/gnu-sparse-extended",
        consumer: "gnu-tar",
        when: When::Always,
        why: "model limit: packtest's reader skips GNU sparse maps and does not rebuild the file (no packager under test writes sparse members)",
    },
    Known {
        archive: "hostile/gnu-sparse-extended",
        consumer: "bsdtar",
        when: When::Always,
        why: "model limit: as for gnu-tar",
    },
    Known {
        archive: "hostile/gnu-sparse-extended",
        consumer: "kserve",
        when: When::Always,
        why: "model limit: as for gnu-tar",
    },
    Known {
        archive: "hostile/gnu-sparse-extended",
        consumer: "py-data",
        when: When::Always,
        why: "model limit: as for gnu-tar",
    },
];

static DAMAGED: Known = Known {
    archive: "(damaged)",
    consumer: "(any)",
    when: When::Always,
    why: "by design: unpack refuses a damaged archive for every target; real consumers extract what they can (see DAMAGED_BY_DESIGN)",
};

/// Hostile-archive cases left out: their expansion is huge (a 512 MiB or 1 GiB member, a
/// 1 TiB sparse file, 64 MiB of padding), which the real consumers would write to disk.
const HOSTILE_SKIPPED: &[&str] = &[
    "gzip-bomb",
    "gzip-bomb-members",
    "gnu-sparse-huge",
    "zero-padding-flood",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

// ---------------------------------------------------------------------------------------
// Consumers

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Consumer {
    GnuTar,
    Bsdtar,
    PyData,
    SmSdk,
    Kserve,
}

const CONSUMERS: [Consumer; 5] = [
    Consumer::GnuTar,
    Consumer::Bsdtar,
    Consumer::PyData,
    Consumer::SmSdk,
    Consumer::Kserve,
];

impl Consumer {
    fn id(self) -> &'static str {
        match self {
            Consumer::GnuTar => "gnu-tar",
            Consumer::Bsdtar => "bsdtar",
            Consumer::PyData => "py-data",
            Consumer::SmSdk => "sm-sdk",
            Consumer::Kserve => "kserve",
        }
    }

    /// The python that runs extract.py for this consumer.
    fn python(self) -> PathBuf {
        let venv = |var: &str, dir: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join(dir).join("bin/python3"))
        };
        match self {
            Consumer::SmSdk => venv("PACKTEST_SDK_PYTHON", "target/sdk-venv"),
            Consumer::Kserve => venv("PACKTEST_KSERVE_PYTHON", "target/kserve-venv"),
            _ => PathBuf::from("python3"),
        }
    }

    /// What installs it.
    fn install(self) -> &'static str {
        match self {
            Consumer::GnuTar => "tests/setup.sh (apt package `tar`)",
            Consumer::Bsdtar => "tests/setup.sh (apt package `libarchive-tools`)",
            Consumer::PyData => "tests/setup.sh (apt package `python3`)",
            Consumer::SmSdk => "tests/conformance/sdk-venv.sh",
            Consumer::Kserve => "tests/consumers/kserve-venv.sh",
        }
    }
}

fn extract_py() -> PathBuf {
    root().join("tests/consumers/extract.py")
}

/// The consumer's version line, or a failure naming its install script.
fn consumer_version(c: Consumer) -> Result<String, String> {
    let out = Command::new(c.python())
        .arg(extract_py())
        .args(["--version", c.id()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "consumer `{}` is missing: cannot run `{}` ({e}); run {}",
                c.id(),
                c.python().display(),
                c.install()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let ok = out.status.success()
        && match c {
            Consumer::GnuTar => text.contains("GNU tar"),
            Consumer::Bsdtar => text.contains("bsdtar"),
            _ => !text.is_empty(),
        };
    if !ok {
        return Err(format!(
            "consumer `{}` is missing or not the pinned one (`{text}`; {}); run {}",
            c.id(),
            String::from_utf8_lossy(&out.stderr).trim(),
            c.install()
        ));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------
// Trees: the same walk and digest as extract.py.

#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    path: String,
    kind: &'static str,
    mode: String,
    sha256: Option<String>,
    target: Option<String>,
    linked: Option<String>,
}

impl Row {
    fn line(&self) -> String {
        let d = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        format!(
            "{} {} {} {} {} {}",
            self.kind,
            self.mode,
            self.path,
            d(&self.sha256),
            d(&self.target),
            d(&self.linked)
        )
    }
}

/// Printable ASCII stays, `\` doubles, every other byte is `\xNN` (as extract.py's `esc`).
fn esc(b: &[u8]) -> String {
    let mut s = String::new();
    for &x in b {
        match x {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(x as char),
            _ => {
                let _ = write!(s, "\\x{x:02x}");
            }
        }
    }
    s
}

fn kind_of(ft: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_file() {
        "file"
    } else if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_socket() {
        "socket"
    } else {
        "other"
    }
}

/// Files over this size are not hashed (`size=N` instead), as in extract.py: a lying tar
/// header makes some consumers write a sparse file of gigabytes.
const HASH_LIMIT: u64 = 64 << 20;

fn sha256_file(p: &Path) -> String {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(p)
        .unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn dev_major_minor(rdev: u64) -> (u64, u64) {
    let major = ((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff);
    let minor = ((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff);
    (major, minor)
}

/// The tree under `dir` walked with lstat, sorted by path bytes; empty if `dir` is absent.
fn walk(dir: &Path) -> Vec<Row> {
    let Ok(top) = fs::symlink_metadata(dir) else {
        return Vec::new();
    };
    let mut all: Vec<(Vec<u8>, fs::Metadata)> = vec![(b".".to_vec(), top)];
    let mut stack: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(rel) = stack.pop() {
        let here = if rel.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(std::ffi::OsStr::from_bytes(&rel))
        };
        for e in fs::read_dir(&here).unwrap_or_else(|e| panic!("{}: {e}", here.display())) {
            let e = e.expect("read_dir entry");
            let mut r = rel.clone();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(e.file_name().as_bytes());
            let m = fs::symlink_metadata(e.path()).expect("lstat");
            if m.is_dir() {
                stack.push(r.clone());
            }
            all.push((r, m));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut inodes: HashMap<(u64, u64), Vec<Vec<u8>>> = HashMap::new();
    for (r, m) in &all {
        if m.is_file() {
            inodes
                .entry((m.dev(), m.ino()))
                .or_default()
                .push(r.clone());
        }
    }
    all.iter()
        .map(|(r, m)| {
            let kind = kind_of(m.file_type());
            let full = if r == b"." {
                dir.to_path_buf()
            } else {
                dir.join(std::ffi::OsStr::from_bytes(r))
            };
            let mut row = Row {
                path: esc(r),
                kind,
                mode: if kind == "symlink" {
                    "-".into()
                } else {
                    format!("{:04o}", m.permissions().mode() & 0o7777)
                },
                sha256: None,
                target: None,
                linked: None,
            };
            match kind {
                "file" => {
                    row.sha256 = Some(if m.len() <= HASH_LIMIT {
                        sha256_file(&full)
                    } else {
                        format!("size={}", m.len())
                    });
                    if m.nlink() > 1 {
                        let g = &inodes[&(m.dev(), m.ino())];
                        row.linked = Some(if g.len() > 1 {
                            esc(&g[0])
                        } else {
                            "(outside)".into()
                        });
                    }
                }
                "symlink" => {
                    row.target = Some(esc(fs::read_link(&full)
                        .expect("readlink")
                        .as_os_str()
                        .as_bytes()))
                }
                "char" | "block" => {
                    let (a, b) = dev_major_minor(m.rdev());
                    row.target = Some(format!("{a},{b}"));
                }
                _ => {}
            }
            row
        })
        .collect()
}

fn digest(rows: &[Row]) -> String {
    let text: Vec<String> = rows.iter().map(Row::line).collect();
    hex(&Sha256::digest(text.join("\n").as_bytes()))
}

// ---------------------------------------------------------------------------------------
// The corpus

struct Archive {
    /// `scenario/NAME.ref-posix`, `hostile/NAME`, `extra/NAME`.
    id: String,
    about: String,
    path: PathBuf,
}

/// Archives built here with raw blocks (the hostile table's builder), beyond that table.
fn extra_cases() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let t = Tar::new;
    let gzt = |t: Tar| gz(&t.end().bytes());
    vec![
        (
            "root-slash",
            "a `/` root member as repack_model writes (`arcname=os.path.sep`), then bare names",
            gzt(t()
                .dir(b"/")
                .file(b"model.bin", b"weights")
                .dir(b"code")
                .file(b"code/inference.py", b"pass\n")),
        ),
        (
            "root-dot-slash",
            "GNU tar's form: a `./` root member and `./` names",
            gzt(t().dir(b"./").file(b"./model.bin", b"weights")),
        ),
        (
            "root-dot-mode-0700",
            "a `./` root member with mode 0700: does the consumer chmod the destination?",
            gzt(t()
                .entry(hdr(b"./", b'5', 0).mode(0o700), b"")
                .file(b"./model.bin", b"weights")),
        ),
        (
            "implied-parents",
            "`a/b/c.bin` with no dir members: every consumer creates the parents",
            gzt(t().file(b"a/b/c.bin", b"deep")),
        ),
        (
            "empty-dir",
            "an empty dir member",
            gzt(t().dir(b"empty").file(b"model.bin", b"w")),
        ),
        (
            "dir-after-children",
            "dir `d` (mode 0700) comes after its file `d/f`",
            gzt(t()
                .file(b"d/f", b"x")
                .entry(hdr(b"d", b'5', 0).mode(0o700), b"")),
        ),
        (
            "dir-read-only-with-file",
            "dir `ro` mode 0555, then `ro/f`: the mode must be applied after the children",
            gzt(t()
                .entry(hdr(b"ro", b'5', 0).mode(0o555), b"")
                .file(b"ro/f", b"x")),
        ),
        (
            "dir-no-exec",
            "dir `closed` mode 0600 holding a file",
            gzt(t()
                .entry(hdr(b"closed", b'5', 0).mode(0o600), b"")
                .file(b"closed/f", b"x")),
        ),
        (
            "mode-exec",
            "an executable file 0755 and a private file 0600",
            gzt(t()
                .entry(hdr(b"serve", b'0', 3).mode(0o755), b"#!\n")
                .entry(hdr(b"secret.bin", b'0', 1).mode(0o600), b"s")),
        ),
        (
            "mode-zero",
            "a file with mode 0000",
            gzt(t().entry(hdr(b"locked.bin", b'0', 1).mode(0), b"z")),
        ),
        (
            "mode-world-writable",
            "a file with mode 0666 and one with 0777",
            gzt(t()
                .entry(hdr(b"ww.bin", b'0', 1).mode(0o666), b"w")
                .entry(hdr(b"wx.sh", b'0', 1).mode(0o777), b"x")),
        ),
        (
            "mode-sticky-world-dir",
            "a dir with mode 1777",
            gzt(t().entry(hdr(b"scratch", b'5', 0).mode(0o1777), b"")),
        ),
        (
            "symlink-file-inside",
            "`latest.bin -> model.bin`: a relative link to a file inside",
            gzt(t()
                .file(b"model.bin", b"weights")
                .symlink(b"latest.bin", b"model.bin")),
        ),
        (
            "symlink-dir-inside",
            "`current -> weights` where `weights/` holds a file (the HF cache pattern)",
            gzt(t()
                .dir(b"weights")
                .file(b"weights/a.bin", b"a")
                .symlink(b"current", b"weights")),
        ),
        (
            "symlink-before-target",
            "`latest.bin -> model.bin` stored before `model.bin`",
            gzt(t()
                .symlink(b"latest.bin", b"model.bin")
                .file(b"model.bin", b"weights")),
        ),
        (
            "symlink-sub-up",
            "`sub/up -> ..`: points at the root, stays inside",
            gzt(t()
                .dir(b"sub")
                .symlink(b"sub/up", b"..")
                .file(b"model.bin", b"w")),
        ),
        (
            "symlink-dangling-inside",
            "`latest -> checkpoint-500` that is not in the archive",
            gzt(t()
                .file(b"model.pth", b"w")
                .symlink(b"latest", b"checkpoint-500")),
        ),
        (
            "symlink-absolute-inside-path",
            "`abs -> /opt/ml/model/model.bin` (absolute, names the model dir)",
            gzt(t()
                .file(b"model.bin", b"w")
                .symlink(b"abs", b"/opt/ml/model/model.bin")),
        ),
        (
            "symlink-escape-relative",
            "`ext -> ../outside/secret.txt`",
            gzt(t()
                .file(b"model.bin", b"w")
                .symlink(b"ext", b"../outside/secret.txt")),
        ),
        (
            "symlink-to-dev-zero",
            "`zero -> /dev/zero`",
            gzt(t().symlink(b"zero", b"/dev/zero")),
        ),
        (
            "symlink-loop",
            "`a -> b`, `b -> a`",
            gzt(t()
                .file(b"model.bin", b"w")
                .symlink(b"a", b"b")
                .symlink(b"b", b"a")),
        ),
        (
            "symlink-self-loop",
            "`self -> self`",
            gzt(t().file(b"model.bin", b"w").symlink(b"self", b"self")),
        ),
        (
            "symlink-chain-escape",
            "`a -> b`, `b -> ../x`: each hop judged alone, `a` stays in",
            gzt(t().symlink(b"a", b"b").symlink(b"b", b"../x")),
        ),
        (
            "symlink-empty-target",
            "a symlink with an empty target",
            gzt(t().file(b"model.bin", b"w").symlink(b"empty", b"")),
        ),
        (
            "hardlink-inside",
            "`b.bin` a hard link to `a.bin`",
            gzt(t().file(b"a.bin", b"weights").hardlink(b"b.bin", b"a.bin")),
        ),
        (
            "hardlink-inside-dot-slash",
            "GNU tar's form: `./b.bin` links to `./a.bin`",
            gzt(t()
                .dir(b"./")
                .file(b"./a.bin", b"weights")
                .hardlink(b"./b.bin", b"./a.bin")),
        ),
        (
            "hardlink-name-forms-mixed",
            "`b.bin` links to `./a.bin` while the file is `a.bin`",
            gzt(t()
                .file(b"a.bin", b"weights")
                .hardlink(b"b.bin", b"./a.bin")),
        ),
        (
            "hardlink-missing-target",
            "`hl` links to `nothere`, which the archive lacks",
            gzt(t().file(b"model.bin", b"w").hardlink(b"hl", b"nothere")),
        ),
        (
            "hardlink-forward",
            "`hl` links to `later`, a file that comes after it",
            gzt(t().hardlink(b"hl", b"later").file(b"later", b"l")),
        ),
        (
            "hardlink-to-symlink",
            "`hl` is a hard link to the symlink `s -> model.bin`",
            gzt(t()
                .file(b"model.bin", b"w")
                .symlink(b"s", b"model.bin")
                .hardlink(b"hl", b"s")),
        ),
        (
            "hardlink-to-dir",
            "`hl` is a hard link to the dir `sub`",
            gzt(t().dir(b"sub").hardlink(b"hl", b"sub")),
        ),
        (
            "hardlink-self",
            "`hl` is a hard link to itself",
            gzt(t().hardlink(b"hl", b"hl")),
        ),
        (
            "hardlink-then-overwrite",
            "`b` links to `a`, then a regular `b` with other bytes",
            gzt(t()
                .file(b"a", b"original")
                .hardlink(b"b", b"a")
                .file(b"b", b"replaced")),
        ),
        (
            "char-device-null",
            "a char device 1,3 (/dev/null) beside a file",
            gzt(t()
                .file(b"model.bin", b"w")
                .entry(hdr(b"null", b'3', 0).mode(0o666).dev(1, 3), b"")),
        ),
        (
            "fifo-beside-model",
            "a FIFO beside a model file (a logger's pipe)",
            gzt(t()
                .file(b"model.bin", b"w")
                .entry(hdr(b"train.log.pipe", b'6', 0), b"")),
        ),
        (
            "duplicate-file-then-dir",
            "`x` a file, then `x/` a dir with `x/f`",
            gzt(t().file(b"x", b"file").dir(b"x").file(b"x/f", b"in dir")),
        ),
        (
            "duplicate-dir-then-file",
            "`x/` a dir holding `x/f`, then a file `x`",
            gzt(t().dir(b"x").file(b"x/f", b"in dir").file(b"x", b"file")),
        ),
        (
            "duplicate-file-then-symlink",
            "`x` a file, then `x -> model.bin`",
            gzt(t()
                .file(b"model.bin", b"w")
                .file(b"x", b"file")
                .symlink(b"x", b"model.bin")),
        ),
        (
            "duplicate-dir-twice-modes",
            "`d/` with mode 0700, then `d/` again with 0755",
            gzt(t()
                .entry(hdr(b"d", b'5', 0).mode(0o700), b"")
                .entry(hdr(b"d", b'5', 0).mode(0o755), b"")),
        ),
        (
            "aregtype-slash",
            "typeflag NUL and a name ending in `/` (a v7 dir)",
            gzt(t()
                .entry(hdr(b"olddir/", 0, 0).mode(0o755), b"")
                .file(b"olddir/f", b"x")),
        ),
        (
            "aregtype-file",
            "typeflag NUL (old regular file)",
            gzt(t().entry(hdr(b"old.bin", 0, 3), b"old")),
        ),
        (
            "contiguous-file",
            "typeflag `7` (contiguous file)",
            gzt(t().entry(hdr(b"contig.bin", b'7', 3), b"abc")),
        ),
        (
            "unknown-typeflag",
            "typeflag `Z` (unknown) with 3 data bytes",
            gzt(t().entry(hdr(b"weird.bin", b'Z', 3), b"abc")),
        ),
        (
            "pax-long-path-ok",
            "a pax `path` of 300 bytes over 3 dirs (legal)",
            gzt(t()
                .pax(&[(
                    "path",
                    format!("{}/{}/{}", "a".repeat(99), "b".repeat(99), "c".repeat(100)).as_bytes(),
                )])
                .file(b"short", b"x")),
        ),
        (
            "pax-linkpath",
            "a symlink whose pax `linkpath` overrides the ustar target",
            gzt(t()
                .file(b"model.bin", b"w")
                .pax(&[("linkpath", b"model.bin")])
                .symlink(b"l", b"elsewhere")),
        ),
        (
            "name-with-dot-components",
            "`a/./b.bin` and `./c//d.bin`: redundant components",
            gzt(t().file(b"a/./b.bin", b"b").file(b"./c//d.bin", b"d")),
        ),
        (
            "dot-member",
            "a member named `.` that is a file",
            gzt(t().file(b".", b"dot").file(b"model.bin", b"w")),
        ),
        (
            "plain-tar",
            "control: a plain (not gzipped) tar with a file and its end marker",
            t().file(b"model.bin", b"w").end().bytes(),
        ),
    ]
}

fn write_archive(dir: &Path, n: usize, bytes: &[u8]) -> PathBuf {
    let ext = if bytes.starts_with(&[0x1f, 0x8b]) {
        "tar.gz"
    } else {
        "tar"
    };
    let p = dir.join(format!("{n:03}.{ext}"));
    fs::write(&p, bytes).expect("write archive");
    p
}

/// Materializes every scenario and packs it three ways; returns (archives, notes).
fn scenario_archives(work: &Path) -> (Vec<Archive>, Vec<String>) {
    let bin = env!("CARGO_BIN_EXE_packtest");
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let per: Vec<(Vec<Archive>, Vec<String>)> = files
        .par_iter()
        .map(|toml| {
            let name = toml.file_stem().unwrap().to_string_lossy().to_string();
            let sb = work.join("sandboxes").join(&name);
            let out = Command::new(bin)
                .arg("materialize")
                .arg(toml)
                .arg(&sb)
                .stdin(Stdio::null())
                .output()
                .expect("run packtest materialize");
            assert!(
                out.status.success(),
                "materialize {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let model = sb.join("opt/ml/model");
            let mut archives = Vec::new();
            let mut notes = Vec::new();
            let packs: [(&str, Vec<String>); 3] = [
                (
                    "ref-posix",
                    vec![
                        "pack".into(),
                        model.display().to_string(),
                        "-o".into(),
                        "{out}".into(),
                        "--target".into(),
                        "posix".into(),
                    ],
                ),
                (
                    "ref-sagemaker",
                    vec![
                        "pack".into(),
                        model.display().to_string(),
                        "-o".into(),
                        "{out}".into(),
                        "--target".into(),
                        "sagemaker".into(),
                    ],
                ),
                (
                    "gnu-tar",
                    vec![
                        "-czf".into(),
                        "{out}".into(),
                        "-C".into(),
                        model.display().to_string(),
                        ".".into(),
                    ],
                ),
            ];
            for (how, args) in packs {
                let dest = work.join("archives").join(format!("{name}.{how}.tar.gz"));
                let args: Vec<String> = args
                    .into_iter()
                    .map(|a| {
                        if a == "{out}" {
                            dest.display().to_string()
                        } else {
                            a
                        }
                    })
                    .collect();
                let prog = if how == "gnu-tar" { "tar" } else { bin };
                let o = Command::new(prog)
                    .args(&args)
                    .stdin(Stdio::null())
                    .output()
                    .expect("run packer");
                let id = format!("scenario/{name}.{how}");
                if o.status.success() && dest.is_file() {
                    archives.push(Archive {
                        id,
                        about: format!("scenarios/{name}.toml packed by {how}"),
                        path: dest,
                    });
                } else {
                    let first = String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    notes.push(format!(
                        "{id}: the packer refused (exit {}): {}",
                        o.status.code().unwrap_or(-1),
                        clip(&redact(&first, &[work]), 140)
                    ));
                }
            }
            (archives, notes)
        })
        .collect();
    let mut a = Vec::new();
    let mut n = Vec::new();
    for (x, y) in per {
        a.extend(x);
        n.extend(y);
    }
    (a, n)
}

fn corpus(work: &Path) -> (Vec<Archive>, Vec<String>) {
    let dir = work.join("archives");
    fs::create_dir_all(&dir).expect("mkdir archives");
    let (mut all, notes) = scenario_archives(work);
    let mut n = 0;
    for c in cases::cases() {
        if HOSTILE_SKIPPED.contains(&c.name) {
            continue;
        }
        n += 1;
        let bytes = (c.build)();
        all.push(Archive {
            id: format!("hostile/{}", c.name),
            about: c.about.to_string(),
            path: write_archive(&dir, n, &bytes),
        });
    }
    for (name, about, bytes) in extra_cases() {
        n += 1;
        all.push(Archive {
            id: format!("extra/{name}"),
            about: about.to_string(),
            path: write_archive(&dir, n, &bytes),
        });
    }
    let ids: BTreeSet<&str> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "duplicate archive ids");
    (all, notes)
}

// ---------------------------------------------------------------------------------------
// Running

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok,
    Refused,
    /// `unpack` exit 2 (not an archive at all): the consumer refuses it too.
    BadInput,
}

#[derive(Clone, Debug)]
struct Outcome {
    status: Status,
    /// The error, redacted: the exception class (and cause) or the first stderr line.
    error: String,
    /// Every stderr line (tar programs and unpack), redacted.
    detail: String,
    tree: Vec<Row>,
    digest: String,
}

impl Outcome {
    fn short(&self) -> String {
        match self.status {
            Status::Ok => format!("ok {}", &self.digest[..12]),
            Status::Refused => format!("refused: {}", self.error),
            Status::BadInput => format!("bad-input: {}", self.error),
        }
    }
    fn refused(&self) -> bool {
        self.status != Status::Ok
    }
}

fn redact(s: &str, roots: &[&Path]) -> String {
    let mut s = s.to_string();
    for r in roots {
        let with = if r.extension().is_some() {
            "$ARCHIVE"
        } else if r.ends_with("out") {
            "$OUT"
        } else {
            "$WORK"
        };
        s = s.replace(&r.display().to_string(), with);
    }
    s
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The run dir of one (archive, runner): `runs/NNN/RUNNER/out`.
fn out_dir(work: &Path, idx: usize, runner: &str) -> PathBuf {
    work.join("runs")
        .join(format!("{idx:03}"))
        .join(runner)
        .join("out")
}

/// Runs one real consumer on every archive with one extract.py process (in chunks).
/// Archives per extract.py process: all of them (the SDK's import alone takes seconds).
const CHUNK: usize = 4096;

fn run_consumer(c: Consumer, work: &Path, archives: &[Archive]) -> Vec<Outcome> {
    let mut outs = Vec::with_capacity(archives.len());
    for chunk in (0..archives.len()).collect::<Vec<_>>().chunks(CHUNK) {
        let mut cmd = Command::new(c.python());
        cmd.arg(extract_py()).arg(c.id());
        for &i in chunk {
            let d = out_dir(work, i, c.id());
            fs::create_dir_all(d.parent().unwrap()).expect("mkdir run dir");
            cmd.arg(&archives[i].path).arg(&d);
        }
        let o = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run extract.py for {}: {e}; run {}", c.id(), c.install()));
        assert!(
            o.status.success(),
            "extract.py {} failed (exit {:?}); run {}\n{}",
            c.id(),
            o.status.code(),
            c.install(),
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).expect("extract.py prints JSON");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            chunk.len(),
            "extract.py {}: one line per archive",
            c.id()
        );
        for (&i, line) in chunk.iter().zip(lines) {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let d = out_dir(work, i, c.id());
            let tree = walk(&d);
            let dg = digest(&tree);
            assert_eq!(
                v["digest"].as_str(),
                Some(dg.as_str()),
                "{} on {}: extract.py's tree digest differs from the Rust walk's",
                c.id(),
                archives[i].id
            );
            let refused = v["status"] == "refused";
            let raw = v["error"].as_str().unwrap_or("").to_string();
            let raw = redact(&raw, &[&archives[i].path, &d, work]);
            let error = match c {
                Consumer::GnuTar | Consumer::Bsdtar => tar_error_class(&raw),
                _ => v["error_class"].as_str().unwrap_or("").to_string(),
            };
            outs.push(Outcome {
                status: if refused { Status::Refused } else { Status::Ok },
                error,
                detail: raw,
                tree,
                digest: dg,
            });
        }
    }
    outs
}

/// `exit N: first message` from a tar program's error text, member names kept, clipped.
fn tar_error_class(raw: &str) -> String {
    // raw = "exit N: line1\nline2…"
    let (exit, rest) = raw.split_once(": ").unwrap_or((raw, ""));
    let first = rest
        .lines()
        .map(|l| l.trim_start_matches("tar: ").trim_start_matches("bsdtar: "))
        .find(|l| !l.starts_with("Removing leading") && !l.is_empty())
        .unwrap_or("");
    format!("{exit}: {}", clip(first, 90))
}

const TARGETS: [&str; 3] = ["posix", "kserve", "sagemaker"];

fn run_unpack(target: &str, work: &Path, idx: usize, a: &Archive) -> Outcome {
    let d = out_dir(work, idx, &format!("unpack-{target}"));
    fs::create_dir_all(&d).expect("mkdir unpack dir");
    let o = Command::new(env!("CARGO_BIN_EXE_packtest"))
        .arg("unpack")
        .arg(&a.path)
        .arg(&d)
        .args(["--target", target])
        .stdin(Stdio::null())
        .output()
        .expect("run packtest unpack");
    let stderr = redact(&String::from_utf8_lossy(&o.stderr), &[&a.path, &d, work]);
    let status = match o.status.code() {
        Some(0) => Status::Ok,
        Some(1) => Status::Refused,
        Some(2) => Status::BadInput,
        other => panic!(
            "packtest unpack --target {target} {}: exit {other:?} (signal?)\n{stderr}",
            a.id
        ),
    };
    // The error itself (printed last, after any "also refused" lines), else the first line.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("packtest: error: "))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim_start_matches("packtest: error: ")
        .trim_start_matches("packtest unpack: ");
    let tree = walk(&d);
    Outcome {
        status,
        error: clip(first, 110),
        detail: stderr.trim().to_string(),
        digest: digest(&tree),
        tree,
    }
}

/// Anything in a run's sandbox besides `out`: a consumer wrote outside its destination.
fn escapes(work: &Path, n_archives: usize, runners: &[String]) -> Vec<String> {
    let mut bad = Vec::new();
    let runs = work.join("runs");
    for e in fs::read_dir(&runs).expect("runs") {
        let name = e.expect("entry").file_name().to_string_lossy().to_string();
        if name.parse::<usize>().map_or(true, |i| i >= n_archives) {
            bad.push(format!("runs/{name}"));
        }
    }
    for i in 0..n_archives {
        let dir = runs.join(format!("{i:03}"));
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd {
            let name = e.expect("entry").file_name().to_string_lossy().to_string();
            if !runners.contains(&name) {
                bad.push(format!("runs/{i:03}/{name}"));
                continue;
            }
            for f in fs::read_dir(dir.join(&name)).expect("run dir") {
                let f = f.expect("entry").file_name().to_string_lossy().to_string();
                if f != "out" {
                    bad.push(format!("runs/{i:03}/{name}/{f}"));
                }
            }
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------
// Judging

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Agree,
    /// One extracts, the other refuses.
    DifferStatus,
    /// Same status, different trees (for `posix`, also the partial trees of two refusals).
    DifferTree,
    /// Not judged (sagemaker's model refuses; the SDK's result is recorded).
    OneWay,
}

fn judge(target: &str, model: &Outcome, real: &Outcome) -> Verdict {
    let same_tree = model.digest == real.digest;
    match target {
        // GNU tar and bsdtar skip what they refuse: the partial tree counts too.
        "posix" => {
            if model.refused() != real.refused() {
                Verdict::DifferStatus
            } else if same_tree {
                Verdict::Agree
            } else {
                Verdict::DifferTree
            }
        }
        // A refusal fails the deploy, whatever was written before it.
        "kserve" => {
            if model.refused() != real.refused() {
                Verdict::DifferStatus
            } else if model.refused() || same_tree {
                Verdict::Agree
            } else {
                Verdict::DifferTree
            }
        }
        "sagemaker" => {
            if model.refused() {
                Verdict::OneWay
            } else if real.refused() {
                Verdict::DifferStatus
            } else if same_tree {
                Verdict::Agree
            } else {
                Verdict::DifferTree
            }
        }
        _ => unreachable!(),
    }
}

fn pairs(target: &str) -> &'static [Consumer] {
    match target {
        "posix" => &[Consumer::GnuTar, Consumer::Bsdtar],
        "kserve" => &[Consumer::Kserve, Consumer::PyData],
        "sagemaker" => &[Consumer::SmSdk],
        _ => unreachable!(),
    }
}

fn known(archive: &str, consumer: &str) -> Option<&'static Known> {
    let root = is_root();
    if DAMAGED_BY_DESIGN.contains(&archive) {
        return Some(&DAMAGED);
    }
    KNOWN_DISAGREEMENTS.iter().chain(MODEL_LIMITS).find(|k| {
        k.archive == archive
            && k.consumer == consumer
            && match k.when {
                When::Always => true,
                When::NotRoot => !root,
            }
    })
}

/// The trees of a disagreement side by side (rows only in one, or different).
fn tree_diff(a: &Outcome, b: &Outcome) -> String {
    let ma: BTreeMap<&str, &Row> = a.tree.iter().map(|r| (r.path.as_str(), r)).collect();
    let mb: BTreeMap<&str, &Row> = b.tree.iter().map(|r| (r.path.as_str(), r)).collect();
    let keys: BTreeSet<&str> = ma.keys().chain(mb.keys()).copied().collect();
    let mut s = String::new();
    for k in keys {
        let la = ma.get(k).map(|r| r.line());
        let lb = mb.get(k).map(|r| r.line());
        if la != lb {
            let _ = writeln!(
                s,
                "      unpack: {}\n      real:   {}",
                la.unwrap_or_else(|| "(absent)".into()),
                lb.unwrap_or_else(|| "(absent)".into())
            );
        }
    }
    s
}

#[test]
fn real_consumers_agree_with_unpack() {
    let start = Instant::now();
    // SAFETY: umask has no preconditions; the children inherit 022 (extract.py sets it too).
    unsafe {
        libc::umask(0o022);
    }
    // Every real consumer must be there: a missing one fails, it is never skipped.
    let versions: Vec<(Consumer, String)> = CONSUMERS
        .iter()
        .map(|&c| (c, consumer_version(c).unwrap_or_else(|e| panic!("{e}"))))
        .collect();

    let tmp = tempfile::Builder::new()
        .prefix("consumers-")
        .tempdir()
        .expect("temp dir");
    let work = tmp.path().canonicalize().expect("canonical temp dir");
    if std::env::var_os("CONSUMERS_KEEP").is_some() {
        println!(
            "CONSUMERS_KEEP: the corpus and every output stay in {}",
            work.display()
        );
        let _ = tmp.keep();
    }
    let (archives, notes) = corpus(&work);
    let index: String = archives
        .iter()
        .enumerate()
        .map(|(i, a)| format!("{i:03} {} {}\n", a.id, a.path.display()))
        .collect();
    fs::write(work.join("index.txt"), index).expect("write index.txt");
    let t_corpus = start.elapsed();

    // The real consumers (one extract.py per consumer, all at once) and the model
    // (`packtest unpack`, archives in parallel) run side by side.
    let mut timings: Vec<String> = Vec::new();
    let (real, model) = std::thread::scope(|scope| {
        let handles: Vec<_> = CONSUMERS
            .iter()
            .map(|&c| {
                let (work, archives) = (&work, &archives);
                scope.spawn(move || {
                    let t = Instant::now();
                    let v = run_consumer(c, work, archives);
                    (c, v, t.elapsed())
                })
            })
            .collect();
        let mut model: BTreeMap<&str, Vec<Outcome>> = BTreeMap::new();
        for t in TARGETS {
            let t0 = Instant::now();
            let v: Vec<Outcome> = archives
                .par_iter()
                .enumerate()
                .map(|(i, a)| run_unpack(t, &work, i, a))
                .collect();
            timings.push(format!("unpack-{t} {:.1?}", t0.elapsed()));
            model.insert(t, v);
        }
        let mut real: BTreeMap<Consumer, Vec<Outcome>> = BTreeMap::new();
        for h in handles {
            let (c, v, d) = h.join().expect("consumer thread");
            timings.push(format!("{} {d:.1?}", c.id()));
            real.insert(c, v);
        }
        (real, model)
    });
    let t_runs = start.elapsed();

    let mut runners: Vec<String> = CONSUMERS.iter().map(|c| c.id().to_string()).collect();
    runners.extend(TARGETS.iter().map(|t| format!("unpack-{t}")));
    let escaped = escapes(&work, archives.len(), &runners);

    // The snapshot text, the disagreements, the counts.
    let mut text = String::new();
    let mut details = String::new();
    let mut differ: Vec<String> = Vec::new();
    let mut counts: BTreeMap<(String, &str), [usize; 4]> = BTreeMap::new(); // agree, differ, known, one-way
    let _ = writeln!(
        text,
        "Consumer conformance matrix: `packtest unpack --target T` against the real consumers."
    );
    let _ = writeln!(
        text,
        "Run as root (the CI's user); see tests/consumers/main.rs for the non-root differences."
    );
    for (c, v) in &versions {
        let _ = writeln!(text, "  {:8} {v}", c.id());
    }
    let _ = writeln!(text, "Agreement: `=` agrees, `DIFFER:status` one extracts and the other refuses, `DIFFER:tree` different trees, `known` is in KNOWN_DISAGREEMENTS, `(one-way)` not judged.");
    let _ = writeln!(text, "posix: status and tree (also the partial tree of a refusal); kserve: status, tree when both extract;");
    let _ = writeln!(
        text,
        "sagemaker: when the model extracts, sm-sdk must extract the same tree."
    );
    let _ = writeln!(text, "Tree digest: 12 hex of sha256 over (type, mode, path, sha256, link target, shared inode) per entry.");
    let _ = writeln!(text, "{} archives.", archives.len());
    for n in &notes {
        let _ = writeln!(text, "note: {n}");
    }
    let mut body = String::new();
    for (i, a) in archives.iter().enumerate() {
        let _ = writeln!(body, "\n## {}: {}", a.id, a.about);
        for t in TARGETS {
            let m = &model[t][i];
            let mut line = format!("  {t:9} unpack {}", m.short());
            for &c in pairs(t) {
                let r = &real[&c][i];
                let v = judge(t, m, r);
                let k = known(&a.id, c.id());
                let e = counts.entry((t.to_string(), c.id())).or_insert([0; 4]);
                let mark = match (v, k) {
                    (Verdict::Agree, _) => {
                        e[0] += 1;
                        "=".to_string()
                    }
                    (Verdict::OneWay, _) => {
                        e[3] += 1;
                        "(one-way)".to_string()
                    }
                    (Verdict::DifferStatus | Verdict::DifferTree, Some(k)) => {
                        e[2] += 1;
                        format!("known: {}", k.why)
                    }
                    (v @ (Verdict::DifferStatus | Verdict::DifferTree), None) => {
                        e[1] += 1;
                        let what = if v == Verdict::DifferStatus {
                            "status"
                        } else {
                            "tree"
                        };
                        differ.push(format!("{} / {t} vs {} ({what})", a.id, c.id()));
                        let _ = writeln!(
                            details,
                            "DIFFER:{what} {} ({}) target {t} vs {}\n    unpack: {}\n    {}: {}\n{}",
                            a.id,
                            a.about,
                            c.id(),
                            if m.detail.is_empty() {
                                m.short()
                            } else {
                                format!("{} | {}", m.short(), m.detail.replace('\n', " | "))
                            },
                            c.id(),
                            if r.detail.is_empty() {
                                r.short()
                            } else {
                                format!(
                                    "{} | {}",
                                    r.short(),
                                    clip(&r.detail.replace('\n', " | "), 600)
                                )
                            },
                            tree_diff(m, r)
                        );
                        format!("DIFFER:{what}")
                    }
                };
                let _ = write!(line, " | {} {} {mark}", c.id(), r.short());
            }
            let _ = writeln!(body, "{line}");
        }
    }
    let _ = writeln!(text, "\nSummary (agree / DIFFER / known / one-way):");
    for ((t, c), [ag, di, kn, ow]) in &counts {
        let _ = writeln!(text, "  {t:9} vs {c:8} {ag:3} / {di:3} / {kn:3} / {ow:3}");
    }
    let _ = writeln!(
        text,
        "Escapes (anything written beside a destination): {}",
        if escaped.is_empty() {
            "none".to_string()
        } else {
            escaped.join(", ")
        }
    );
    text.push_str(&body);

    println!("{text}");
    println!("=== disagreements ({}) ===\n{details}", differ.len());
    if let Some(p) = std::env::var_os("CONSUMERS_REPORT") {
        fs::write(&p, format!("{text}\n=== disagreements ===\n{details}")).expect("write report");
    }
    println!(
        "timings: corpus {:.1?}, consumers and unpack {:.1?} ({}), total {:.1?}",
        t_corpus,
        t_runs - t_corpus,
        timings.join(", "),
        start.elapsed()
    );

    let unpack_escaped: Vec<&String> = escaped.iter().filter(|e| e.contains("/unpack-")).collect();
    assert!(
        unpack_escaped.is_empty(),
        "packtest unpack wrote outside its destination: {unpack_escaped:?}"
    );

    if is_root() {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(root().join("snapshots"));
        s.set_prepend_module_to_snapshot(false);
        s.bind(|| insta::assert_snapshot!("consumers_matrix", text));
    } else {
        unavailable::unavailable(
            "the consumer matrix snapshot",
            "not root (the snapshot is the root one: devices and exact modes need root)",
        );
    }
    assert!(
        differ.is_empty(),
        "{} disagreement(s) between `packtest unpack` and the real consumers:\n  {}\n\n{details}",
        differ.len(),
        differ.join("\n  ")
    );
}
