//! Runs the real `packtest` binary on one archive under hard limits, and measures it.
//!
//! The child gets an address-space cap (`RLIMIT_AS`, so a runaway allocation aborts instead of
//! swapping), a wall-clock timeout (its process group is killed past it), an empty working dir
//! and an empty `TMPDIR`; `/usr/bin/time` measures its peak RSS. A panic (exit
//! code 101) or a death by signal is reported as such, never as an ordinary failure.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How a run ended, and what it cost.
#[derive(Debug)]
pub struct Ran {
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// Signal, if it was killed by one.
    pub signal: Option<i32>,
    /// True when the timeout killed it.
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Peak resident set, KiB.
    pub max_rss_kib: i64,
    pub elapsed: Duration,
}

impl Ran {
    /// A one-line description of how it ended.
    pub fn ending(&self) -> String {
        match (self.code, self.signal, self.timed_out) {
            (_, _, true) => format!("timed out after {:.1?}", self.elapsed),
            (Some(101), _, _) => format!(
                "PANICKED (exit 101): {}",
                String::from_utf8_lossy(&self.stderr)
            ),
            (Some(c), _, _) => format!("exit {c}"),
            (None, Some(s), _) => format!(
                "killed by signal {s}: {}",
                String::from_utf8_lossy(&self.stderr)
            ),
            _ => "unknown ending".into(),
        }
    }
}

/// The binary under test.
pub fn packtest_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_packtest"))
}

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Runs `packtest args…` in `cwd` with `TMPDIR=tmpdir`, at most `as_limit` bytes of address
/// space and `timeout` of wall-clock time.
///
/// The peak RSS comes from `/usr/bin/time -f %M`, not from our own `wait4`: a forked child's
/// `ru_maxrss` includes the pages of the parent (this test process) from before `exec`, while
/// `time` is small and forks packtest itself. Without `/usr/bin/time` the RSS is -1.
pub fn run_limited(
    args: &[&std::ffi::OsStr],
    cwd: &Path,
    tmpdir: &Path,
    as_limit: u64,
    timeout: Duration,
) -> Ran {
    let stat_dir = tempfile::tempdir().expect("temp dir");
    let stat_file = stat_dir.path().join("time.out");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o"])
            .arg(&stat_file)
            .arg(packtest_bin());
        c
    } else {
        crate::unavailable::unavailable(
            "the peak-RSS bound of the hostile-archive cases",
            "/usr/bin/time is missing",
        );
        Command::new(packtest_bin())
    };
    cmd.args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmpdir)
        .env_remove("PACKTEST_MAX_UNPACKED")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: as_limit,
                rlim_max: as_limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn packtest");
    let pid = child.id() as libc::pid_t;
    let out = drain(child.stdout.take().expect("piped"));
    let err = drain(child.stderr.take().expect("piped"));
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout && !timed_out {
            timed_out = true;
            // SAFETY: kill(2) on our own child's process group.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    let (mut code, mut signal) = (status.code(), status.signal());
    let mut max_rss_kib = -1;
    if let Ok(text) = std::fs::read_to_string(&stat_file) {
        for line in text.lines() {
            if let Some(sig) = line.strip_prefix("Command terminated by signal ") {
                code = None;
                signal = sig.trim().parse().ok();
            } else if let Ok(kib) = line.trim().parse() {
                max_rss_kib = kib;
            }
        }
    }
    Ran {
        code,
        signal,
        timed_out,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        max_rss_kib,
        elapsed,
    }
}

/// Every path under `dir` (recursively), relative, sorted.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().strip_prefix(dir).unwrap_or(e.path()).to_path_buf())
        .collect();
    v.sort();
    v
}
