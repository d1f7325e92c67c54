//! The command adapter: runs any packager program as `argv` with `{model_dir}` and `{output}`.
//!
//! - the template is split into words like a POSIX shell would (`shell-words`), but no shell
//!   runs: placeholders are substituted per word, so paths with spaces stay one argument;
//! - the program runs through [`crate::process::run_process`] (its own process group, stdin
//!   from `/dev/null`, output capped, timeout, descendants killed) with cwd = the job's
//!   `opt/ml/code`, and `SM_MODEL_DIR` / `SM_OUTPUT_DATA_DIR` in its environment.
//!
//! Relative program paths (`./pack.sh`) and relative arguments that name an existing file are
//! made absolute at parse time, because the child runs in the sandbox, not in the caller's
//! directory.

use std::path::Path;

use super::{PackJob, PackOutcome, Packager};
use crate::process::{run_process, ProcessSpec};

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
    /// The program is a bare name that no `PATH` directory holds.
    #[error("the packager program `{program}` is not on PATH; install it, or give its path")]
    NotOnPath {
        /// The program word.
        program: String,
    },
    /// A path the command names (the program, or the script of an interpreter) does not
    /// exist, or the program is not an executable file.
    #[error("the packager {role} `{word}` {problem}; fix the path in --packager (relative paths are resolved against the directory packtest runs in, `{}`)", cwd.display())]
    BadPath {
        /// `program` or `python3 script`, …
        role: String,
        /// The word as written.
        word: String,
        /// What is wrong with it.
        problem: &'static str,
        /// The directory relative paths were resolved against.
        cwd: std::path::PathBuf,
    },
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

    /// Checks, before any case runs, that the program and the script a known interpreter
    /// (`python`, `python3`, `sh`, `bash`, `node`, `perl`, `ruby`) is given exist, resolved as
    /// the run resolves them: a bare program name on `PATH`; a path, and an interpreter's
    /// first non-option argument, against the directory packtest runs in (words naming an
    /// existing file there were made absolute by [`CommandPackager::parse`]; any other
    /// relative word would be looked up in the sandbox's `opt/ml/code`, which holds no
    /// packager). Words with a placeholder, and `-c`/`-m`/`-e` code, are not checked.
    pub fn check_paths(&self) -> Result<(), CommandParseError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let bad = |role: String, word: &str, problem| CommandParseError::BadPath {
            role,
            word: word.to_owned(),
            problem,
            cwd: cwd.clone(),
        };
        let Some(program) = self.argv.first() else {
            return Ok(());
        };
        if program.contains('{') {
            return Ok(());
        }
        if program.contains('/') {
            let path = cwd.join(program);
            if !path.exists() {
                return Err(bad("program".into(), program, "does not exist"));
            }
            if !is_executable(&path) {
                return Err(bad(
                    "program".into(),
                    program,
                    "is not an executable file (chmod +x, or run it with its interpreter)",
                ));
            }
        } else if !on_path(program) {
            return Err(CommandParseError::NotOnPath {
                program: program.clone(),
            });
        }
        if let Some(script) = interpreter_script(&self.argv) {
            if !script.contains('{') && !cwd.join(script).is_file() {
                let name = Path::new(program)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(bad(format!("{name} script"), script, "does not exist"));
            }
        }
        Ok(())
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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when a `PATH` directory holds an executable `program`, as `execvp` would find it.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| is_executable(&d.join(program))))
}

/// The script a known interpreter runs: its first non-option argument. `None` when the
/// program is no known interpreter, or the code comes from an option (`-c`, `-m`, `-e`, …)
/// or stdin.
fn interpreter_script(argv: &[String]) -> Option<&str> {
    let name = Path::new(argv.first()?).file_name()?.to_str()?;
    let python = name
        .strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let (code, with_arg): (&[&str], &[&str]) = match name {
        _ if python => (&["-c", "-m", "-"], &["-W", "-X", "-Q"]),
        "sh" | "bash" | "dash" => (&["-c", "-s", "-"], &["-o", "-O", "+o", "+O"]),
        "node" => (
            &["-e", "--eval", "-p", "--print", "-", "-i"],
            &["-r", "--require", "--import", "--loader"],
        ),
        "perl" => (&["-e", "-E", "-"], &[]),
        "ruby" => (&["-e", "-"], &["-r", "-I", "-C"]),
        _ => return None,
    };
    let mut words = argv[1..].iter();
    while let Some(w) = words.next() {
        if code.contains(&w.as_str()) || w == "--" {
            return None;
        }
        if with_arg.contains(&w.as_str()) {
            words.next();
        } else if !w.starts_with('-') && !w.starts_with('+') {
            return Some(w);
        }
    }
    None
}

impl Packager for CommandPackager {
    fn name(&self) -> String {
        self.template.clone()
    }

    fn invocation(&self) -> super::Invocation {
        super::Invocation::Command(self.template.clone())
    }

    fn runs_as_process(&self) -> bool {
        true
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
            cancel: job.cancel.clone(),
            capture: true,
            setup: job.setup.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packager::Exit;
    use crate::process::OUTPUT_CAP;
    use std::time::{Duration, Instant};

    fn job(dir: &Path) -> PackJob {
        PackJob {
            model_dir: dir.join("model dir"),
            output: dir.join("out.tar.gz"),
            cwd: dir.to_owned(),
            output_data_dir: dir.join("data"),
            timeout: Duration::from_secs(5),
            cancel: crate::process::CancelToken::new(),
            setup: Default::default(),
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
    fn missing_programs_and_scripts_are_found_before_any_run() {
        let ok = |t: &str| CommandPackager::parse(t).unwrap().check_paths();
        assert_eq!(
            ok("nosuch-packager-xyz {output}"),
            Err(CommandParseError::NotOnPath {
                program: "nosuch-packager-xyz".into()
            })
        );
        for t in [
            "./nosuch.sh {output}",
            "/nonexistent/pack {output}",
            "python3 nosuch.py {model_dir} {output}",
            "python3 -u -W ignore nosuch.py {output}",
            "bash nosuch.sh {output}",
        ] {
            assert!(
                matches!(ok(t), Err(CommandParseError::BadPath { .. })),
                "{t}: {:?}",
                ok(t)
            );
        }
        let e = ok("python3 nosuch.py {model_dir} {output}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the packager python3 script `nosuch.py` does not exist"),
            "{e}"
        );
        for t in [
            "tar -czf {output} -C {model_dir} .",
            "sh -c 'tar -czf {output} .' {model_dir}",
            "python3 -m tarfile -c {output} {model_dir}",
            "python3 {model_dir}/pack.py {output}",
            "/bin/sh -c 'exit 0' {output}",
        ] {
            assert_eq!(ok(t), Ok(()), "{t}");
        }
        // A script that exists where packtest runs is found (and made absolute by parse).
        let here = env!("CARGO_MANIFEST_DIR");
        let script = format!("sh {here}/tests/new_user/run.sh {{output}}");
        assert_eq!(ok(&script), Ok(()));
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
        assert!(String::from_utf8_lossy(&o.stderr).contains("bytes dropped here"));
    }
}
