//! A three-reader differential: on every case of a 512-case generated run, the reference
//! packager's archive (for the `posix`, `kserve` and `sagemaker` targets) is read by packtest's
//! reader, by GNU tar and by Python's `tarfile`, and all three must agree on every member:
//! raw name bytes, type, size, mode, link target, content sha256.
//!
//! - **packtest**: [`Manifest::read_path`]; its listing, and the tree it implies.
//! - **GNU tar** extracts (`-x --no-same-owner -p`) into an empty dir, which is walked with
//!   lstat. Extraction, not `tar -tv`: a listing is a text rendering to parse back (quoting
//!   styles, ` -> ` and ` link to ` inside names, no content), while an extraction gives the
//!   names back as raw bytes from the filesystem, with the content to hash. What it cannot
//!   show is header-only: a hard link is two paths on one inode, so hard links are compared
//!   as groups.
//! - **Python** (`readers_agree/python_reader.py`, one process for the whole run) lists with
//!   `getmembers()` (compared member by member with packtest's listing, archive order
//!   included) and extracts with `filter="data"` where the target's consumer does
//!   (`sagemaker`, `kserve`) and `fully_trusted` for `posix` (whose archives hold what `data`
//!   refuses: FIFOs, absolute and escaping links).
//!
//! The corpus is `strategy::job_layout()` plus a hard-name piece per case (`corpus`).
//! Disagreements are listed all at once, each with its case, target and reader; the other
//! readers' documented differences are the `QUIRKS` table in `view`.
//! `PROPTEST_RNG_SEED` picks another corpus.

#[path = "common/unavailable.rs"]
mod unavailable;

#[path = "readers_agree/corpus.rs"]
mod corpus;
#[path = "readers_agree/view.rs"]
mod view;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use packtest::archive::{Limits, Manifest};
use packtest::layout::{Sandbox, SandboxError};
use packtest::target::Target;
use packtest::ReferencePackager;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;

use view::{Reader, Rec, Tree};

const CASES: u32 = 512;
const SEED: u64 = 1616;
const TARGETS: [Target; 3] = [Target::Posix, Target::Kserve, Target::Sagemaker];

/// The Python reader, one process for the run.
struct Python {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
}

impl Python {
    /// Starts the helper; `Err` says why it cannot run here.
    fn start() -> Result<Python, String> {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers_agree/python_reader.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("python3 cannot be started: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut hello = String::new();
        out.read_line(&mut hello).map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&hello).map_err(|e| format!("{e}: {hello:?}"))?;
        if v["hello"].is_null() {
            return Err(v["why"].as_str().unwrap_or("no answer").to_string());
        }
        Ok(Python { child, stdin, out })
    }

    /// Lists and extracts `archive` into the empty dir `dest`.
    fn read(&mut self, filter: &str, archive: &Path, dest: &Path) -> Value {
        writeln!(
            self.stdin,
            "{filter}\t{}\t{}",
            archive.display(),
            dest.display()
        )
        .expect("python reader stdin");
        let mut line = String::new();
        self.out.read_line(&mut line).expect("python reader stdout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("python reader: {e}: {line:?}"))
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unhex(v: &Value) -> Option<Vec<u8>> {
    let s = v.as_str()?;
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One record of the Python reader's JSON.
fn py_rec(v: &Value) -> Rec {
    Rec {
        name: unhex(&v[0]).unwrap_or_default(),
        kind: v[1].as_str().unwrap_or("?").to_string(),
        size: v[2].as_u64().unwrap_or(u64::MAX),
        mode: v[3].as_u64().map_or(u32::MAX, |m| m as u32),
        link: unhex(&v[4]),
        sha: v[5].as_str().map(str::to_string),
        group: unhex(&v[6]),
    }
}

fn py_list(v: &Value) -> Option<Vec<Rec>> {
    Some(v.as_array()?.iter().map(py_rec).collect())
}

/// The process umask (`Umask:` in /proc/self/status), which Python's `data` filter leaves
/// directories with.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// What the run saw.
#[derive(Default)]
struct Stats {
    archives: [u32; 3],
    refused: [u32; 3],
    unbuildable: u32,
    hard_piece_dropped: u32,
    listed: u64,
    tree_nodes: u64,
    newline: u32,
    non_utf8: u32,
    deep: u32,
    control: u32,
    long_link: u32,
    hardlinks: u32,
    symlinks: u32,
    /// Seconds spent building sandboxes, packing, and in each reader.
    secs: [f64; 5],
    /// How many records each row of `view::QUIRKS` changed.
    quirks: [u64; view::QUIRKS.len()],
}

impl Stats {
    /// Counts the hard kinds among the names and link targets of one (posix) listing.
    fn count(&mut self, list: &[Rec]) {
        for r in list {
            let odd = |b: &[u8], s: &mut Self| {
                s.newline += b.contains(&b'\n') as u32;
                s.non_utf8 += std::str::from_utf8(b).is_err() as u32;
                s.control += b.iter().any(|c| *c < 0x20 && *c != b'\n' || *c == 0x7f) as u32;
            };
            odd(&r.name, self);
            self.deep += (r.name.len() >= 3900) as u32;
            if let Some(l) = &r.link {
                odd(l, self);
                self.long_link += (l.len() > 100) as u32;
            }
            self.hardlinks += (r.kind == "hardlink") as u32;
            self.symlinks += (r.kind == "symlink") as u32;
        }
    }
}

/// The readers, the scratch dir and what they found.
struct Run {
    gnu_tar: bool,
    python: Option<Python>,
    scratch: tempfile::TempDir,
    umask: u32,
    stats: Stats,
    disagreements: Vec<String>,
}

/// An empty dir `name` under the scratch dir (emptied if it was there).
fn fresh(scratch: &Path, name: &str) -> PathBuf {
    let d = scratch.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir(&d).expect("scratch dir");
    d
}

impl Run {
    fn disagree(&mut self, case: u32, target: Target, reader: &str, items: Vec<String>) {
        for i in items {
            self.disagreements
                .push(format!("case {case} {target} {reader}: {i}"));
        }
    }

    /// Packs `sb` for `target` and has the three readers read the archive.
    fn check(&mut self, case: u32, ti: usize, sb: &Sandbox) {
        let target = TARGETS[ti];
        let out = self.scratch.path().join("model.tar.gz");
        let _ = std::fs::remove_file(&out);
        let t = Instant::now();
        let packed = ReferencePackager::for_target(target).pack_dir(&sb.model_dir(), &out);
        self.stats.secs[1] += t.elapsed().as_secs_f64();
        if packed.is_err() {
            self.stats.refused[ti] += 1;
            return;
        }
        self.stats.archives[ti] += 1;
        let t = Instant::now();
        let read = Manifest::read_path(&out, Limits::default());
        self.stats.secs[2] += t.elapsed().as_secs_f64();
        let m = match read {
            Ok(m) => m,
            Err(e) => {
                return self.disagree(case, target, "packtest", vec![format!("cannot read: {e}")])
            }
        };
        let ours = view::listing(&m);
        let tree = view::implied_tree(&m);
        if target == Target::Posix {
            self.stats.count(&ours);
        }
        self.stats.listed += ours.len() as u64;
        self.stats.tree_nodes += tree.len() as u64;
        if self.gnu_tar {
            let t = Instant::now();
            let items = self.gnu_tar_diff(&out, &tree);
            self.stats.secs[3] += t.elapsed().as_secs_f64();
            self.disagree(case, target, "GNU tar", items);
        }
        if self.python.is_some() {
            let t = Instant::now();
            let items = self.python_diff(target, &out, &ours, &tree);
            self.stats.secs[4] += t.elapsed().as_secs_f64();
            self.disagree(case, target, "python", items);
        }
    }

    fn gnu_tar_diff(&mut self, archive: &Path, ours: &Tree) -> Vec<String> {
        let dest = fresh(self.scratch.path(), "g");
        let o = Command::new("tar")
            .env("LC_ALL", "C")
            .args(["-x", "--no-same-owner", "-p", "-f"])
            .arg(archive)
            .arg("-C")
            .arg(&dest)
            .output()
            .expect("tar runs");
        if !o.status.success() {
            return vec![format!(
                "tar -x failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            )];
        }
        match view::walk(&dest) {
            Ok(theirs) => view::diff_trees(ours, &theirs),
            Err(e) => vec![format!("walking the extraction: {e}")],
        }
    }

    fn python_diff(
        &mut self,
        target: Target,
        archive: &Path,
        ours: &[Rec],
        tree: &Tree,
    ) -> Vec<String> {
        let dest = fresh(self.scratch.path(), "p");
        let data = target != Target::Posix;
        let py = self.python.as_mut().expect("checked by the caller");
        let v = py.read(if data { "data" } else { "fully_trusted" }, archive, &dest);
        let mut items = Vec::new();
        match py_list(&v["list"]) {
            Some(theirs) => {
                items.extend(
                    view::diff_listings(ours, &theirs)
                        .into_iter()
                        .map(|i| format!("listing: {i}")),
                );
            }
            None => items.push(format!("listing failed: {}", v["list_error"])),
        }
        if let Some(e) = v["extract_error"].as_str() {
            items.push(format!("extraction failed: {e}"));
        }
        let theirs: Tree = py_list(&v["tree"])
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        let want: Tree = if data {
            tree.iter()
                .map(|(k, r)| {
                    (
                        k.clone(),
                        view::as_seen_by(
                            Reader::PyDataFilter,
                            r,
                            self.umask,
                            &mut self.stats.quirks,
                        ),
                    )
                })
                .collect()
        } else {
            tree.clone()
        };
        items.extend(
            view::diff_trees(&want, &theirs)
                .into_iter()
                .map(|i| format!("extraction: {i}")),
        );
        items
    }
}

fn have_gnu_tar() -> bool {
    Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("GNU tar"))
}

/// Short scratch paths: a 4,050-byte member name under them stays below `PATH_MAX`.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let parent = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("rd")
        .tempdir_in(parent)
        .expect("scratch dir")
}

fn report(run: &Run, secs: f64) {
    let s = &run.stats;
    let mut e = std::io::stderr();
    let _ = writeln!(
        e,
        "readers_agree: {CASES} cases in {secs:.1} s ({} unbuildable here, {} without the hard piece); \
         archives posix/kserve/sagemaker {:?} (refused {:?}); {} members listed, {} extracted paths; \
         hard kinds (posix members and link targets): {} newline, {} non-UTF-8, {} names >= 3,900 bytes, \
         {} control chars, {} link targets > 100 bytes, {} symlinks, {} hard links; {} disagreements; \
         seconds in build/pack/packtest/GNU tar/python: {:.1?}",
        s.unbuildable, s.hard_piece_dropped, s.archives, s.refused, s.listed, s.tree_nodes, s.newline,
        s.non_utf8, s.deep, s.control, s.long_link, s.symlinks, s.hardlinks, run.disagreements.len(), s.secs
    );
    for (q, n) in view::QUIRKS.iter().zip(s.quirks) {
        let _ = writeln!(
            e,
            "  quirk of {:?}, applied to {n} records: {} ({})",
            q.reader, q.what, q.why
        );
    }
}

#[test]
fn gnu_tar_python_and_packtest_agree_on_every_member_of_512_generated_archives() {
    let gnu_tar = have_gnu_tar();
    if !gnu_tar {
        unavailable::unavailable(
            "the GNU tar reader of the differential",
            "GNU tar is not installed",
        );
    }
    let python = Python::start()
        .map_err(|why| {
            unavailable::unavailable("the Python tarfile reader of the differential", &why)
        })
        .ok();
    let start = Instant::now();
    let mut run = Run {
        gnu_tar,
        python,
        scratch: scratch(),
        umask: umask(),
        stats: Stats::default(),
        disagreements: Vec::new(),
    };
    let mut runner = TestRunner::new(packtest::strategy::ci_config(
        CASES,
        "PROPTEST_RNG_SEED",
        SEED,
    ));
    let strategy = corpus::layout();
    for case in 0..CASES {
        let (layout, hard_kept) = strategy.new_tree(&mut runner).expect("a layout").current();
        run.stats.hard_piece_dropped += (!hard_kept) as u32;
        let t = Instant::now();
        let built = Sandbox::materialize(&layout);
        run.stats.secs[0] += t.elapsed().as_secs_f64();
        let sb = match built {
            Ok(sb) => sb,
            Err(SandboxError::Unsupported { .. }) => {
                run.stats.unbuildable += 1;
                continue;
            }
            Err(e) => panic!("case {case}: {e}"),
        };
        for ti in 0..TARGETS.len() {
            run.check(case, ti, &sb);
        }
    }
    report(&run, start.elapsed().as_secs_f64());
    let shown: Vec<&String> = run.disagreements.iter().take(40).collect();
    assert!(
        run.disagreements.is_empty(),
        "{} disagreements, the first 40:\n{shown:#?}",
        run.disagreements.len()
    );
    let s = &run.stats;
    for (kind, n) in [
        ("newline", s.newline),
        ("non-UTF-8", s.non_utf8),
        ("~4,000-byte", s.deep),
    ] {
        assert!(
            n >= 50,
            "the corpus has only {n} {kind} names: the differential says little about them"
        );
    }
    assert!(
        s.archives.iter().all(|n| *n >= CASES / 4),
        "too few archives: {:?}",
        s.archives
    );
}
