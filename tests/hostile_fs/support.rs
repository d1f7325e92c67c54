//! Fixtures for the hostile-filesystem tests: building a case, running `packtest pack` (as
//! root or as nobody, with limits), and the checks every case shares.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use packtest::archive::{DiskTree, Limits, Manifest};
use packtest::layout::{Digest, Sandbox};

use crate::cases::Case;

/// A built case: the sandbox, the paths the packager gets, and what was at the output path.
pub struct Fixture {
    pub sandbox: Sandbox,
    pub model: PathBuf,
    pub output: PathBuf,
    /// The archive that sat at the output path before the run, if the case put one there.
    pub previous: Option<Vec<u8>>,
}

impl Fixture {
    /// The output's directory.
    pub fn out_dir(&self) -> PathBuf {
        self.output
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The state of the sandbox outside `out/`.
    pub fn state(&self) -> TreeState {
        TreeState::of(&self.sandbox)
    }
}

/// Builds case `c`; `None` (with the reason printed) when this host cannot.
pub fn prepare(c: &Case) -> Option<Fixture> {
    let sandbox = match Sandbox::materialize(&(c.layout)()) {
        Ok(s) => s,
        Err(e) => panic!("{}: cannot build the layout: {e}", c.name),
    };
    let root = sandbox.root().to_path_buf();
    if let Some(extra) = c.extra {
        if let Err(e) = extra(&sandbox) {
            if e.kind() == std::io::ErrorKind::Unsupported {
                crate::unavailable::unavailable(c.name, &e.to_string());
                return None;
            }
            panic!("{}: cannot build the hostile part: {e}", c.name);
        }
    }
    if c.as_nobody {
        // nobody must reach the model dir and write the output dir; the temp dir is 0700.
        chmod(&root, 0o755);
        chmod(&root.join("out"), 0o777);
    }
    let model = c.model.map_or_else(|| sandbox.model_dir(), |f| f(&sandbox));
    let output = c
        .output
        .map_or_else(|| sandbox.output_path(), |f| f(&sandbox));
    let previous = if c.previous {
        let old = b"the previous, complete model.tar.gz".to_vec();
        std::fs::write(&output, &old).expect("write the previous archive");
        Some(old)
    } else {
        None
    };
    Some(Fixture {
        sandbox,
        model,
        output,
        previous,
    })
}

/// chmod that panics with the path.
pub fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

/// mknod(2) for devices and FIFOs.
pub fn mknod(p: &Path, mode: libc::mode_t, major: u32, minor: u32) -> std::io::Result<()> {
    let c = CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: valid NUL-terminated path.
    let rc = unsafe { libc::mknod(c.as_ptr(), mode, libc::makedev(major, minor)) };
    if rc == 0 {
        Ok(())
    } else {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EPERM) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!("mknod is not permitted here ({e})"),
            ));
        }
        Err(e)
    }
}

/// `file`, `dir`, `symlink`, `fifo`, `socket`, `char-device`, `block-device`, or None.
pub fn file_kind(p: &Path) -> Option<&'static str> {
    let ft = std::fs::symlink_metadata(p).ok()?.file_type();
    Some(if ft.is_file() {
        "file"
    } else if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "char-device"
    } else {
        "block-device"
    })
}

/// The hidden temp files the reference packager leaves in `dir`.
pub fn partials(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".packtest-") && n.ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The archive reads cleanly (gzip, tar, no unsafe names other than escaping links) and its
/// entries equal the model dir's.
pub fn archive_matches_model(output: &Path, model: &Path) -> Result<(), String> {
    archive_matches_model_for(output, model, packtest::target::Target::Posix)
}

/// What `target`'s consumer extracts from the archive equals the tree it must get from the
/// model dir, and it refuses no member (DESIGN §2).
pub fn archive_matches_model_for(
    output: &Path,
    model: &Path,
    target: packtest::target::Target,
) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(output).map_err(|e| format!("no archive: {e}"))?;
    if !meta.is_file() {
        return Err(format!("the output is not a regular file: {meta:?}"));
    }
    let m = Manifest::read_path(output, Limits::default())
        .map_err(|e| format!("the archive does not read: {e}"))?;
    let tree = DiskTree::scan(model).map_err(|e| format!("cannot scan the model dir: {e}"))?;
    if target == packtest::target::Target::Posix {
        let diff = tree.diff(&m);
        if !diff.is_empty() {
            return Err(format!(
                "archive differs from the model dir: {:?}",
                diff.items
            ));
        }
    }
    let (got, gaps) = packtest::target::judge_dir(model, &m, target).map_err(|e| e.to_string())?;
    if !got.refusals.is_empty() {
        return Err(format!(
            "{target}'s consumer refuses members: {:?}",
            got.refusals
        ));
    }
    if !gaps.is_empty() {
        return Err(format!("{target}'s consumer gets another tree: {gaps:?}"));
    }
    Ok(())
}

/// A snapshot of everything in the sandbox except `out/`: the tree digest, or, when the tree
/// is too deep for path-based walking (paths over 4096 bytes), a GNU tar stream of it.
#[derive(Debug, PartialEq, Eq)]
pub enum TreeState {
    Digest(Digest),
    Tar(Vec<u8>),
}

impl TreeState {
    pub fn of(sb: &Sandbox) -> TreeState {
        match sb.digest() {
            Ok(d) => TreeState::Digest(d),
            Err(_) => {
                let out = Command::new("tar")
                    .args(["--sort=name", "--exclude=./out", "-cf", "-", "-C"])
                    .arg(sb.root())
                    .arg(".")
                    .output()
                    .expect("GNU tar for the deep-tree snapshot");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                use sha2::Digest as _;
                TreeState::Tar(sha2::Sha256::digest(&out.stdout).to_vec())
            }
        }
    }

    pub fn changes(&self, after: &TreeState) -> Vec<String> {
        match (self, after) {
            (TreeState::Digest(a), TreeState::Digest(b)) => a.changes(b),
            _ => vec!["the tar snapshot of the deep tree differs".into()],
        }
    }
}

/// Why the binary cannot be run as nobody here, if it cannot.
pub fn nobody_available() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: cannot switch to uid 65534 (and as a normal user the permission cases need no switch, but their fixtures do)".into());
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_packtest"))
        .arg("--version")
        .output()
        .map_err(|e| format!("setpriv is not available: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "uid 65534 cannot run {}: {}",
            env!("CARGO_BIN_EXE_packtest"),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// How to run the binary.
#[derive(Clone, Debug)]
pub struct RunOpts {
    pub as_nobody: bool,
    pub timeout: Duration,
    /// RLIMIT_FSIZE in bytes.
    pub fsize_limit: Option<u64>,
    pub level: Option<u32>,
    /// `--target`, when not the default.
    pub target: Option<&'static str>,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            as_nobody: false,
            timeout: Duration::from_secs(60),
            fsize_limit: None,
            level: None,
            target: None,
        }
    }
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Ran {
    pub fn ending(&self) -> String {
        match (self.code, self.signal, self.timed_out) {
            (_, _, true) => format!("timed out after {:?}", self.elapsed),
            (Some(101), _, _) => format!("PANICKED: {}", String::from_utf8_lossy(&self.stderr)),
            (Some(c), _, _) => format!("exit {c}: {}", String::from_utf8_lossy(&self.stderr)),
            (None, Some(s), _) => format!("killed by signal {s}"),
            _ => "unknown".into(),
        }
    }
}

/// The `packtest pack` command for `model` → `output`.
pub fn pack_command(model: &Path, output: &Path, cwd: &Path, o: &RunOpts) -> Command {
    let mut cmd = if o.as_nobody {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            env!("CARGO_BIN_EXE_packtest"),
        ]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_packtest"))
    };
    cmd.arg("pack").arg(model).arg("-o").arg(output);
    if let Some(l) = o.level {
        cmd.args(["--level", &l.to_string()]);
    }
    if let Some(t) = o.target {
        cmd.args(["--target", t]);
    }
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(limit) = o.fsize_limit {
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

/// Runs `packtest pack` to the end (or the timeout).
pub fn run_pack(model: &Path, output: &Path, cwd: &Path, o: &RunOpts) -> Ran {
    let mut child = pack_command(model, output, cwd, o)
        .spawn()
        .expect("spawn packtest");
    wait_child(&mut child, o.timeout)
}

/// Waits for a spawned `pack` (killing its group past `timeout`), collecting stderr.
pub fn wait_child(child: &mut std::process::Child, timeout: Duration) -> Ran {
    let start = Instant::now();
    let mut err = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout && !timed_out {
            timed_out = true;
            // SAFETY: kill(2) on our child's process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ran {
        code: status.code(),
        signal: status.signal(),
        timed_out,
        stderr: reader.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}
