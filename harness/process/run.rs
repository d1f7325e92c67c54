//! [`run_process`]: one child process in its own group, with stdin closed, output drained and
//! capped, a timeout, and every descendant killed when it ends (see the [`super`] docs).

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::drain::Drain;
use super::hygiene::{job_marker, kill_escaped, JOB_ENV};
use super::{CancelToken, ChildSetup, Exit, PackOutcome};

/// Grace period between SIGTERM and SIGKILL on a timeout.
const KILL_GRACE: Duration = Duration::from_millis(300);

/// Sends `sig` to the whole process group `pgid`.
fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// True once the child has exited; it stays a zombie (not reaped) so its pid stays reserved.
fn exited_unreaped(pid: i32) -> bool {
    // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer; WNOWAIT leaves the child waitable.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: si_pid is valid to read after a successful waitid.
    rc == 0 && unsafe { info.si_pid() } == pid
}

/// A child process to run with packtest's hygiene (see the [`crate::process`] docs).
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    /// Program and arguments; must not be empty.
    pub argv: Vec<std::ffi::OsString>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, std::ffi::OsString)>,
    /// Kill the process group after this long.
    pub timeout: Option<Duration>,
    /// Capture stdout and stderr (capped); otherwise both go to packtest's stderr.
    pub capture: bool,
    /// Kill the process group once this is cancelled (Ctrl-C in a run).
    pub cancel: CancelToken,
    /// Umask, environment changes, CPUs and user (applied after `env`).
    pub setup: ChildSetup,
}

/// Runs a process in its own group with stdin closed, waits with the timeout, and kills the
/// whole group when it ends or times out.
pub fn run_process(spec: &ProcessSpec) -> PackOutcome {
    let start = Instant::now();
    let Some(program) = spec.argv.first() else {
        return PackOutcome {
            exit: Exit::SpawnFailed("empty command".into()),
            stdout: Vec::new(),
            stderr: Vec::new(),
            duration: start.elapsed(),
        };
    };
    // Every descendant inherits the marker, so the ones that leave the group can be found.
    let marker = job_marker();
    let mut cmd = command(spec, program, &marker);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return PackOutcome {
                exit: Exit::SpawnFailed(format!("`{}`: {e}", PathBuf::from(program).display())),
                stdout: Vec::new(),
                stderr: Vec::new(),
                duration: start.elapsed(),
            }
        }
    };
    let pid = child.id() as i32;
    let out = child.stdout.take().map(Drain::start);
    let err = child.stderr.take().map(Drain::start);
    let timed_out = wait_or_kill(pid, spec.timeout.map(|t| start + t), &spec.cancel);
    // Children that outlive the process die with its group.
    kill_group(pid, libc::SIGKILL);
    let status = child.wait();
    // Processes that left the group (setsid) are found by their marker; then the pipes close,
    // and a pipe still held open by something unfound stops being read after a short wait.
    let escaped = kill_escaped(&marker);
    let pipes_deadline = Instant::now() + KILL_GRACE;
    let stdout = out.map(|d| d.finish(pipes_deadline)).unwrap_or_default();
    let mut stderr = err.map(|d| d.finish(pipes_deadline)).unwrap_or_default();
    if escaped > 0 {
        stderr.extend_from_slice(
            format!("\n[packtest: killed {escaped} process(es) that left the packager's process group]\n")
                .as_bytes(),
        );
    }
    PackOutcome {
        exit: exit_of(status, timed_out),
        stdout,
        stderr,
        duration: start.elapsed(),
    }
}

/// The command for `spec`: its own process group, stdin closed, the job marker in its
/// environment, and stdout and stderr piped (`capture`) or sent to packtest's stderr.
fn command(spec: &ProcessSpec, program: &std::ffi::OsString, marker: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .process_group(0);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    spec.setup.apply(&mut cmd);
    cmd.env(JOB_ENV, marker);
    if spec.capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        // The child's stdout joins our stderr, so our stdout stays machine-readable.
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(Stdio::from(fd));
        }
    }
    cmd
}

/// Waits until the child `pid` exits, or until `deadline` passes or `cancel` is cancelled;
/// then its group gets SIGTERM and a short grace. True when it was stopped that way.
fn wait_or_kill(pid: i32, deadline: Option<Instant>, cancel: &CancelToken) -> bool {
    let mut sleep = Duration::from_millis(1);
    loop {
        if exited_unreaped(pid) {
            return false;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) || cancel.is_cancelled() {
            kill_group(pid, libc::SIGTERM);
            let grace_end = Instant::now() + KILL_GRACE;
            while Instant::now() < grace_end && !exited_unreaped(pid) {
                thread::sleep(Duration::from_millis(5));
            }
            return true;
        }
        thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(20));
    }
}

/// How the run ended, from the reaped status.
fn exit_of(status: std::io::Result<ExitStatus>, timed_out: bool) -> Exit {
    if timed_out {
        return Exit::TimedOut;
    }
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(sig)) => Exit::Signal(sig),
            _ => Exit::Code(-1),
        },
        Err(e) => Exit::SpawnFailed(format!("cannot wait for the process: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(argv: &[&str], dir: &std::path::Path) -> ProcessSpec {
        ProcessSpec {
            argv: argv.iter().map(|a| (*a).into()).collect(),
            cwd: dir.to_owned(),
            env: vec![("PACKTEST_TEST_VAR".into(), "v".into())],
            timeout: Some(Duration::from_secs(5)),
            capture: true,
            cancel: CancelToken::new(),
            setup: ChildSetup::default(),
        }
    }

    #[test]
    fn an_empty_argv_is_a_spawn_failure() {
        let dir = tempfile::tempdir().unwrap();
        let o = run_process(&spec(&[], dir.path()));
        assert_eq!(o.exit, Exit::SpawnFailed("empty command".into()));
    }

    #[test]
    fn the_child_gets_the_cwd_the_env_and_the_job_marker() {
        let dir = tempfile::tempdir().unwrap();
        let script = format!("pwd; echo $PACKTEST_TEST_VAR; echo ${JOB_ENV}");
        let o = run_process(&spec(&["sh", "-c", &script], dir.path()));
        assert_eq!(o.exit, Exit::Code(0));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let cwd = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(lines[0], cwd.to_string_lossy());
        assert_eq!(lines[1], "v");
        assert!(
            lines[2].starts_with(&format!("{}-", std::process::id())),
            "{text}"
        );
    }
}
