//! The static hostile-filesystem cases: a layout, an optional hostile extra that a layout
//! cannot express (devices, deep trees, permissions, things at the output path), and the
//! expected outcome as data. Ids refer to hostile-inputs.md §2.1 (F-…).

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use packtest::layout::{Content, Entry, Layout, Root, Sandbox};
use packtest::target::Target;

use crate::support::{chmod, mknod};

/// What the reference packager must do.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// A correct archive: reads cleanly, diff against the model dir empty.
    Packed,
    /// Exit `code`, with a message naming `names` (relative to the sandbox root).
    Fails { code: i32, names: &'static str },
}

/// One hostile filesystem.
pub struct Case {
    pub name: &'static str,
    pub about: &'static str,
    pub layout: fn() -> Layout,
    pub extra: Option<fn(&Sandbox) -> io::Result<()>>,
    /// The model dir to pass (default: the sandbox's).
    pub model: Option<fn(&Sandbox) -> PathBuf>,
    /// The output path to pass (default: `out/model.tar.gz`).
    pub output: Option<fn(&Sandbox) -> PathBuf>,
    pub expect: Expect,
    /// Run the binary as uid 65534 (permission cases).
    pub as_nobody: bool,
    /// Put a previous archive at the output path first; a failure must leave it intact.
    pub previous: bool,
    /// What the case put at the output path (not ours: it must survive untouched).
    pub output_kind_before: Option<&'static str>,
    /// What the packager must do for target `sagemaker`, when it differs from `expect` (which
    /// is for `posix`): links that escape, dangle or loop and special files are refused.
    pub sagemaker: Option<Expect>,
}

fn c(name: &'static str, about: &'static str, layout: fn() -> Layout, expect: Expect) -> Case {
    Case {
        name,
        about,
        layout,
        extra: None,
        model: None,
        output: None,
        expect,
        as_nobody: false,
        previous: false,
        output_kind_before: None,
        sagemaker: None,
    }
}

impl Case {
    fn extra(mut self, f: fn(&Sandbox) -> io::Result<()>) -> Self {
        self.extra = Some(f);
        self
    }
    fn model(mut self, f: fn(&Sandbox) -> PathBuf) -> Self {
        self.model = Some(f);
        self
    }
    fn output(mut self, f: fn(&Sandbox) -> PathBuf) -> Self {
        self.output = Some(f);
        self
    }
    fn nobody(mut self) -> Self {
        self.as_nobody = true;
        self
    }
    fn previous(mut self) -> Self {
        self.previous = true;
        self
    }
    fn occupied_by(mut self, kind: &'static str) -> Self {
        self.output_kind_before = Some(kind);
        self
    }
    /// Under `sagemaker` the packager must refuse, naming `names`.
    fn refused_by_sagemaker(mut self, names: &'static str) -> Self {
        self.sagemaker = Some(fails(1, names));
        self
    }
    /// What the packager must do for `target`.
    pub fn expect_for(&self, target: Target) -> Expect {
        match target {
            Target::Sagemaker => self.sagemaker.unwrap_or(self.expect),
            _ => self.expect,
        }
    }
}

const PACKED: Expect = Expect::Packed;

const fn fails(code: i32, names: &'static str) -> Expect {
    Expect::Fails { code, names }
}

/// A small, realistic model dir every case starts from.
fn base() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "model.safetensors",
            Content::random(1, 50_000),
        ))
        .with(
            Entry::file(
                Root::Model,
                "code/inference.py",
                Content::Text("def model_fn(d): pass\n".into()),
            )
            .with_mode(0o755),
        )
        .with(Entry::file(
            Root::Outside,
            "secret.txt",
            Content::Text("outside the model dir\n".into()),
        ))
}

fn with(e: Entry) -> Layout {
    base().with(e)
}

/// Builds `model/deep/<250 bytes>/<250 bytes>/…` past 4096 bytes in total, with `mkdirat` and
/// `openat` relative to a directory fd (absolute paths that long cannot be used at all).
fn deep_tree(sb: &Sandbox) -> io::Result<()> {
    use std::ffi::CString;
    let top = sb.model_dir().join("deep");
    std::fs::create_dir(&top)?;
    let c = CString::new(top.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: valid path; the fd is closed below.
    let mut fd = unsafe { libc::open(c.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    for i in 0..18 {
        let name = CString::new(format!("{i:02}{}", "d".repeat(248))).map_err(io::Error::other)?;
        // SAFETY: valid fd and name.
        unsafe {
            if libc::mkdirat(fd, name.as_ptr(), 0o755) != 0 {
                return Err(io::Error::last_os_error());
            }
            let next = libc::openat(fd, name.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            libc::close(fd);
            if next < 0 {
                return Err(io::Error::last_os_error());
            }
            fd = next;
        }
    }
    let f = CString::new("weights.bin").map_err(io::Error::other)?;
    // SAFETY: valid fd and name.
    unsafe {
        let file = libc::openat(fd, f.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
        if file >= 0 {
            libc::write(file, b"deep".as_ptr().cast(), 4);
            libc::close(file);
        }
        libc::close(fd);
    }
    Ok(())
}

/// Every static case.
pub fn cases() -> Vec<Case> {
    vec![
        // ---- special files (F-FIFO, F-SOCKET, F-DEVICE): stored as their type, never opened ----
        c("fifo", "F-FIFO: a FIFO with no writer (opening it would block forever)",
            || with(Entry::fifo(Root::Model, "pipe")), PACKED).refused_by_sagemaker("opt/ml/model/pipe"),
        c("socket", "F-SOCKET: a socket node (left out; DESIGN allows it)",
            || with(Entry::socket(Root::Model, "agent.sock")), PACKED),
        c("char-device", "F-DEVICE: a character device 1,5 (/dev/zero) in the model dir",
            base, PACKED)
            .extra(|sb| mknod(&sb.model_dir().join("zero"), libc::S_IFCHR | 0o666, 1, 5))
            .refused_by_sagemaker("opt/ml/model/zero"),
        c("block-device", "F-DEVICE: a block device 7,0 (a loop device) in the model dir",
            base, PACKED)
            .extra(|sb| mknod(&sb.model_dir().join("loop0"), libc::S_IFBLK | 0o660, 7, 0))
            .refused_by_sagemaker("opt/ml/model/loop0"),
        // ---- links (F-LINK-*): stored as links, never followed ----
        c("symlink-to-dev-zero", "a symlink to /dev/zero (following it reads forever)",
            || with(Entry::symlink(Root::Model, "zeros.bin", "/dev/zero")), PACKED)
            .refused_by_sagemaker("opt/ml/model/zeros.bin"),
        c("symlink-escape-absolute", "F-LINK-ESCAPE: `passwd -> /etc/passwd`",
            || with(Entry::symlink(Root::Model, "passwd", "/etc/passwd")), PACKED)
            .refused_by_sagemaker("opt/ml/model/passwd"),
        c("symlink-escape-relative", "F-LINK-ESCAPE: `secret -> ../../../outside/secret.txt`",
            || with(Entry::symlink(Root::Model, "secret", "../../../outside/secret.txt")), PACKED)
            .refused_by_sagemaker("opt/ml/model/secret"),
        c("symlink-loop", "F-LINK-LOOP: `a -> b`, `b -> a`",
            || base().with(Entry::symlink(Root::Model, "a", "b")).with(Entry::symlink(Root::Model, "b", "a")),
            PACKED).refused_by_sagemaker("opt/ml/model/a"),
        c("dir-symlink-loop", "F-LINK-LOOP: `sub/up -> ..` (GNU tar -h segfaulted on this)",
            || with(Entry::symlink(Root::Model, "code/up", "..")), PACKED)
            .refused_by_sagemaker("opt/ml/model/code/up"),
        c("dangling-symlink", "F-LINK-DANGLING: `best.pt -> checkpoints/best.pt`, which does not exist",
            || with(Entry::symlink(Root::Model, "best.pt", "checkpoints/best.pt")), PACKED)
            .refused_by_sagemaker("opt/ml/model/best.pt"),
        c("symlinks-inside", "internal links to a file and to a dir (the HF cache, `latest -> checkpoint-500`): copied for sagemaker, stored for posix",
            || with(Entry::file(Root::Model, "ckpt/w.bin", Content::random(9, 300)))
                .with(Entry::symlink(Root::Model, "latest", "ckpt"))
                .with(Entry::symlink(Root::Model, "w.bin", "ckpt/w.bin")),
            PACKED),
        c("hardlinks-inside", "F-HARDLINK: two names for one file",
            || with(Entry::hardlink(Root::Model, "model-copy.safetensors", "model.safetensors")), PACKED),
        c("hardlink-from-outside", "F-HARDLINK: a file hard-linked from outside the model dir (stored as a full file)",
            base, PACKED)
            .extra(|sb| std::fs::hard_link(sb.dir(Root::Outside).join("secret.txt"), sb.model_dir().join("linked.txt"))),
        // ---- names (F-LONGNAME, F-NONUTF8, F-NEWLINE) ----
        c("name-255-bytes", "F-LONGNAME: a file name of 255 bytes (NAME_MAX)",
            || with(Entry::file(Root::Model, "n".repeat(251) + ".bin", Content::random(2, 100))), PACKED),
        c("name-non-utf8", "F-NONUTF8: name bytes `w\\xff\\xfe.bin`",
            || with(Entry::file(Root::Model, &b"w\xff\xfe.bin"[..], Content::random(3, 100))), PACKED),
        c("name-newline", "F-NEWLINE: a name with a newline and a leading dash",
            || with(Entry::file(Root::Model, "-rf\nmodel.bin", Content::random(4, 100))), PACKED),
        c("path-over-4096-bytes", "F-LONGNAME: 18 levels of 250-byte names (4.6 KB path): packing by absolute path fails, naming it",
            base, fails(1, "opt/ml/model/deep/00dddd"))
            .extra(deep_tree),
        // ---- modes and odd but valid dirs ----
        c("setuid-file", "a setuid executable: kept exactly (the reader flags it)",
            || with(Entry::file(Root::Model, "bin/tool", Content::random(5, 10)).with_mode(0o4755)), PACKED),
        c("empty-model-dir", "an empty model dir: a valid, empty archive (SageMaker does the same)",
            Layout::new, PACKED),
        c("read-only-dirs", "directories with mode 0555 and a file with mode 0444",
            || base()
                .with(Entry::dir(Root::Model, "frozen").with_mode(0o555))
                .with(Entry::file(Root::Model, "frozen-file.bin", Content::random(6, 10)).with_mode(0o444)),
            PACKED),
        // ---- bad output paths ----
        c("output-dir-missing", "the output's directory does not exist",
            base, fails(2, "out/missing"))
            .output(|sb| sb.root().join("out/missing/model.tar.gz")),
        c("output-is-a-directory", "the output path is a directory",
            base, fails(2, "out/model.tar.gz"))
            .extra(|sb| std::fs::create_dir(sb.output_path()))
            .occupied_by("dir"),
        c("output-inside-model-dir", "F-OUT-IN-SRC: the output path is inside the model dir",
            base, fails(2, "opt/ml/model/model.tar.gz"))
            .output(|sb| sb.model_dir().join("model.tar.gz")),
        c("output-is-a-fifo", "a FIFO sits at the output path: renaming over it would destroy it",
            base, fails(2, "out/model.tar.gz"))
            .extra(|sb| mknod(&sb.output_path(), libc::S_IFIFO | 0o644, 0, 0))
            .occupied_by("fifo"),
        c("output-is-a-device", "a device node 1,7 (like /dev/full) sits at the output path",
            base, fails(2, "out/model.tar.gz"))
            .extra(|sb| mknod(&sb.output_path(), libc::S_IFCHR | 0o666, 1, 7))
            .occupied_by("char-device"),
        c("output-parent-is-a-file", "the output's directory is a regular file",
            base, fails(2, "out/file"))
            .extra(|sb| std::fs::write(sb.root().join("out/file"), b"x"))
            .output(|sb| sb.root().join("out/file/model.tar.gz")),
        c("output-symlink-to-outside", "the output path is a symlink to a file outside: the link is replaced, the target untouched",
            base, PACKED)
            .extra(|sb| std::os::unix::fs::symlink(sb.dir(Root::Outside).join("secret.txt"), sb.output_path())),
        c("model-dir-missing", "the model dir does not exist",
            base, fails(2, "opt/ml/nonexistent"))
            .model(|sb| sb.root().join("opt/ml/nonexistent")),
        c("model-dir-is-a-file", "the model dir is a regular file",
            base, fails(2, "outside/secret.txt"))
            .model(|sb| sb.dir(Root::Outside).join("secret.txt")),
        // ---- permissions, as uid 65534 (F-UNREADABLE) ----
        c("unreadable-file", "F-UNREADABLE: a mode-000 file, packed as nobody",
            || with(Entry::file(Root::Model, "weights.bin", Content::random(7, 1000)).with_mode(0o000)),
            fails(1, "opt/ml/model/weights.bin"))
            .nobody(),
        c("unreadable-dir", "F-UNREADABLE-DIR: a mode-000 directory, packed as nobody",
            || with(Entry::dir(Root::Model, "private").with_mode(0o000)),
            fails(1, "opt/ml/model/private"))
            .nobody(),
        c("unreadable-file-keeps-previous-archive", "a failing pack leaves the previous archive at the output path byte-identical",
            || with(Entry::file(Root::Model, "weights.bin", Content::random(8, 1000)).with_mode(0o000)),
            fails(1, "opt/ml/model/weights.bin"))
            .nobody()
            .previous(),
        c("output-dir-not-writable", "the output dir is not writable for the packing user",
            base, fails(1, "out/ro/model.tar.gz"))
            .nobody()
            .extra(|sb| {
                chmod(sb.root(), 0o755);
                std::fs::create_dir(sb.root().join("out/ro"))?;
                chmod(&sb.root().join("out/ro"), 0o555);
                Ok(())
            })
            .output(|sb| sb.root().join("out/ro/model.tar.gz")),
    ]
}
