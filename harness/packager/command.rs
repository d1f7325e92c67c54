//! The command adapter: runs any packager program as `argv` with `{model_dir}` and `{output}`.
//!
//! Child-process hygiene, as nextest and ripgrep do it:
//! - the template is split into words like a POSIX shell would (`shell-words`), but no shell
//!   runs: placeholders are substituted per word, so paths with spaces stay one argument;
//! - the child gets its own process group, stdin from `/dev/null`, cwd = the job's
//!   `opt/ml/code`, and `SM_MODEL_DIR` / `SM_OUTPUT_DATA_DIR` in its environment;
//! - stdout and stderr are drained on threads (no pipe deadlock) and capped at
//!   [`OUTPUT_CAP`] bytes each; the rest is counted and dropped;
//! - past the timeout the whole group gets SIGTERM, then SIGKILL after a short grace;
//! - after the child exits, the group is killed too, so a forked child that outlives the
//!   packager cannot linger. The leader is not reaped until then (`waitid(WNOWAIT)`), so the
//!   group id cannot have been reused;
//! - descendants that left the group (`setsid`) are found by a `PACKTEST_JOB` marker in their
//!   environment and killed, and a pipe one of them still holds is read only briefly after
//!   the exit (see `hygiene`).
//!
//! Relative program paths (`./pack.sh`) and relative arguments that name an existing file are
//! made absolute at parse time, because the child runs in the sandbox, not in the caller's
//! directory.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{Exit, PackJob, PackOutcome, Packager};

/// Bytes of stdout and of stderr kept per run.
pub const OUTPUT_CAP: usize = 256 * 1024;

/// Grace period between SIGTERM and SIGKILL on a timeout.
const KILL_GRACE: Duration = Duration::from_millis(300);

/// A packager that runs a program.
#[derive(Clone, Debug)]
pub struct CommandPackager {
    template: String,
    argv: Vec<String>,
}

/// Why a command template was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandParseError {
    /// The template cannot be split into words.
    #[error(
        "cannot split the packager command `{template}` into words: {reason} (check the quotes)"
    )]
    Split {
        /// The template.
        template: String,
        /// The splitter's message.
        reason: String,
    },
    /// The template is empty.
    #[error(
        "the packager command is empty; give one such as 'tar -czf {{output}} -C {{model_dir}} .'"
    )]
    Empty,
    /// `{output}` is missing.
    #[error("the packager command `{template}` never mentions {{output}}, so packtest cannot tell it where to write; add {{output}} (and {{model_dir}}, or read $SM_MODEL_DIR)")]
    NoOutput {
        /// The template.
        template: String,
    },
}

impl CommandPackager {
    /// Parses an argv template such as `tar -czf {output} -C {model_dir} .`.
    pub fn parse(template: &str) -> Result<Self, CommandParseError> {
        let words = shell_words::split(template).map_err(|e| CommandParseError::Split {
            template: template.to_owned(),
            reason: e.to_string(),
        })?;
        if words.is_empty() {
            return Err(CommandParseError::Empty);
        }
        if !words.iter().any(|w| w.contains("{output}")) {
            return Err(CommandParseError::NoOutput {
                template: template.to_owned(),
            });
        }
        let cwd = std::env::current_dir().ok();
        let argv = words
            .into_iter()
            .enumerate()
            .map(|(i, w)| absolutize(i, w, cwd.as_deref()))
            .collect();
        Ok(CommandPackager {
            template: template.to_owned(),
            argv,
        })
    }

    /// The argv with placeholders substituted for `job`.
    pub fn argv_for(&self, job: &PackJob) -> Vec<std::ffi::OsString> {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        self.argv
            .iter()
            .map(|w| {
                let mut out = Vec::new();
                let mut rest = w.as_str();
                while let Some(pos) = rest.find('{') {
                    out.extend_from_slice(&rest.as_bytes()[..pos]);
                    let tail = &rest[pos..];
                    if let Some(t) = tail.strip_prefix("{model_dir}") {
                        out.extend_from_slice(job.model_dir.as_os_str().as_bytes());
                        rest = t;
                    } else if let Some(t) = tail.strip_prefix("{output}") {
                        out.extend_from_slice(job.output.as_os_str().as_bytes());
                        rest = t;
                    } else {
                        out.push(b'{');
                        rest = &tail[1..];
                    }
                }
                out.extend_from_slice(rest.as_bytes());
                std::ffi::OsString::from_vec(out)
            })
            .collect()
    }
}

/// Makes a relative program path, or a relative argument that names an existing file,
/// absolute against `cwd`, because the child runs elsewhere.
pub(crate) fn absolutize(index: usize, word: String, cwd: Option<&Path>) -> String {
    let Some(cwd) = cwd else { return word };
    if word.starts_with('/') || word.starts_with('-') || word.contains('{') {
        return word;
    }
    let candidate = cwd.join(&word);
    let is_program_path = index == 0 && word.contains('/');
    if is_program_path || (index > 0 && word != "." && word != ".." && candidate.is_file()) {
        return candidate.to_string_lossy().into_owned();
    }
    word
}

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

impl Packager for CommandPackager {
    fn name(&self) -> String {
        self.template.clone()
    }

    fn invocation(&self) -> super::Invocation {
        super::Invocation::Command(self.template.clone())
    }

    fn pack(&self, job: &PackJob) -> PackOutcome {
        run_process(&ProcessSpec {
            argv: self.argv_for(job),
            cwd: job.cwd.clone(),
            env: vec![
                (
                    "SM_MODEL_DIR".into(),
                    job.model_dir.clone().into_os_string(),
                ),
                (
                    "SM_OUTPUT_DATA_DIR".into(),
                    job.output_data_dir.clone().into_os_string(),
                ),
            ],
            timeout: Some(job.timeout),
            capture: true,
        })
    }
}

/// A child process to run with packtest's hygiene (see the module docs).
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
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .process_group(0);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    // Every descendant inherits the marker, so the ones that leave the group can be found.
    let marker = super::hygiene::job_marker();
    cmd.env(super::hygiene::JOB_ENV, &marker);
    if spec.capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        // The child's stdout joins our stderr, so our stdout stays machine-readable.
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(Stdio::from(fd));
        }
    }
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
    let out = child.stdout.take().map(super::hygiene::Drain::start);
    let err = child.stderr.take().map(super::hygiene::Drain::start);
    let deadline = spec.timeout.map(|t| start + t);
    let mut timed_out = false;
    let mut sleep = Duration::from_millis(1);
    loop {
        if exited_unreaped(pid) {
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) || super::cancelled() {
            timed_out = true;
            kill_group(pid, libc::SIGTERM);
            let grace_end = Instant::now() + KILL_GRACE;
            while Instant::now() < grace_end && !exited_unreaped(pid) {
                thread::sleep(Duration::from_millis(5));
            }
            break;
        }
        thread::sleep(sleep);
        sleep = (sleep * 2).min(Duration::from_millis(20));
    }
    // Children that outlive the process die with its group.
    kill_group(pid, libc::SIGKILL);
    let status = child.wait();
    // Processes that left the group (setsid) are found by their marker; then the pipes close,
    // and a pipe still held open by something unfound stops being read after a short wait.
    let escaped = super::hygiene::kill_escaped(&marker);
    let pipes_deadline = Instant::now() + KILL_GRACE;
    let stdout = out.map(|d| d.finish(pipes_deadline)).unwrap_or_default();
    let mut stderr = err.map(|d| d.finish(pipes_deadline)).unwrap_or_default();
    if escaped > 0 {
        stderr.extend_from_slice(
            format!("\n[packtest: killed {escaped} process(es) that left the packager's process group]\n")
                .as_bytes(),
        );
    }
    let exit = if timed_out {
        Exit::TimedOut
    } else {
        match status {
            Ok(s) => match (s.code(), s.signal()) {
                (Some(c), _) => Exit::Code(c),
                (None, Some(sig)) => Exit::Signal(sig),
                _ => Exit::Code(-1),
            },
            Err(e) => Exit::SpawnFailed(format!("cannot wait for the process: {e}")),
        }
    };
    PackOutcome {
        exit,
        stdout,
        stderr,
        duration: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(dir: &Path) -> PackJob {
        PackJob {
            model_dir: dir.join("model dir"),
            output: dir.join("out.tar.gz"),
            cwd: dir.to_owned(),
            output_data_dir: dir.join("data"),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn placeholders_are_substituted_per_word_without_a_shell() {
        let p =
            CommandPackager::parse("tar -czf {output} -C '{model_dir}' . --x={output}").unwrap();
        let argv = p.argv_for(&job(Path::new("/s")));
        assert_eq!(argv[2], "/s/out.tar.gz");
        assert_eq!(argv[4], "/s/model dir");
        assert_eq!(argv[6], "--x=/s/out.tar.gz");
    }

    #[test]
    fn bad_templates_are_refused() {
        assert_eq!(
            CommandPackager::parse("  ").unwrap_err(),
            CommandParseError::Empty
        );
        assert!(matches!(
            CommandPackager::parse("tar 'x").unwrap_err(),
            CommandParseError::Split { .. }
        ));
        assert!(matches!(
            CommandPackager::parse("tar -C {model_dir}").unwrap_err(),
            CommandParseError::NoOutput { .. }
        ));
    }

    #[test]
    fn a_hanging_packager_is_killed_at_the_timeout_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let p = CommandPackager::parse("sh -c 'sleep 30 & sleep 30; echo {output}'").unwrap();
        let mut j = job(dir.path());
        j.timeout = Duration::from_millis(200);
        let t = Instant::now();
        let o = p.pack(&j);
        assert_eq!(o.exit, Exit::TimedOut);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn exit_codes_signals_and_stderr_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let o = CommandPackager::parse("sh -c 'echo oops >&2; exit 3' {output}")
            .unwrap()
            .pack(&job(dir.path()));
        assert_eq!(o.exit, Exit::Code(3));
        assert_eq!(o.stderr, b"oops\n");
        let o = CommandPackager::parse("sh -c 'kill -9 $$' {output}")
            .unwrap()
            .pack(&job(dir.path()));
        assert_eq!(o.exit, Exit::Signal(9));
        let o = CommandPackager::parse("/nonexistent/packager {output}")
            .unwrap()
            .pack(&job(dir.path()));
        assert!(matches!(o.exit, Exit::SpawnFailed(_)));
    }

    #[test]
    fn output_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let o = CommandPackager::parse("sh -c 'head -c 3000000 /dev/zero >&2' {output}")
            .unwrap()
            .pack(&job(dir.path()));
        assert!(o.stderr.len() < OUTPUT_CAP + 100);
        assert!(String::from_utf8_lossy(&o.stderr).contains("more bytes dropped"));
    }
}
