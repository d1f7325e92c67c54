//! GNU tar and Python's tarfile read the reference packager's output with the same entries;
//! gzip and igzip read every `--level` back to the same tar, and each level is within 2% of
//! the size of `gzip -N` on text.
//!
//! Runs whichever of the two is installed, and says so when one is missing; `.ci/run` makes
//! sure both are there, so CI runs both.

#[path = "common/unavailable.rs"]
mod unavailable;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use packtest::gzip::PgzWriter;
use packtest::layout::{Content, Entry, Fill, Layout, ModelFormat, Root, Sandbox};
use packtest::packager::{ArchiveFormat, PackOptions};
use packtest::ReferencePackager;

fn layout() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "model.safetensors",
            Content::format(ModelFormat::Safetensors, 1, 100_000),
        ))
        .with(
            Entry::file(
                Root::Model,
                "code/inference.py",
                Content::Text("x = 1\n".into()),
            )
            .with_mode(0o755),
        )
        .with(Entry::dir(Root::Model, "empty/nested"))
        .with(Entry::file(
            Root::Model,
            "l".repeat(150) + ".bin",
            Content::random(2, 10),
        ))
        .with(Entry::file(
            Root::Model,
            format!("{}/{}", "d".repeat(120), "f".repeat(120)),
            Content::random(3, 10),
        ))
        .with(Entry::file(
            Root::Model,
            "caf\u{e9} v1.txt",
            Content::Seeded {
                seed: 4,
                size: 5000,
                fill: Fill::Text,
            },
        ))
        .with(Entry::symlink(Root::Model, "alias", "model.safetensors"))
        .with(Entry::symlink(
            Root::Model,
            "x".repeat(120),
            "y".repeat(140),
        ))
        .with(Entry::hardlink(Root::Model, "hard", "code/inference.py"))
        .with(Entry::fifo(Root::Model, "pipe"))
        // Several 1 MiB compression blocks: Huffman-only weights and stored random bytes,
        // joined by sync flushes into one gzip member that every reader must accept.
        .with(Entry::file(
            Root::Model,
            "shard-00001.bin",
            Content::Seeded {
                seed: 5,
                size: 2_600_000,
                fill: Fill::Floats,
            },
        ))
        .with(Entry::file(
            Root::Model,
            "blob.bin",
            Content::Seeded {
                seed: 6,
                size: 1_300_000,
                fill: Fill::Random,
            },
        ))
}

fn packed() -> (tempfile::TempDir, Sandbox, std::path::PathBuf) {
    let sb = Sandbox::materialize(&layout()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("model.tar.gz");
    ReferencePackager::for_target(packtest::target::Target::Posix)
        .pack_dir(&sb.model_dir(), &out)
        .unwrap();
    (t, sb, out)
}

fn our_names(out: &Path) -> BTreeSet<String> {
    let m = packtest::archive::Manifest::read_path(out, Default::default()).unwrap();
    m.members.iter().map(|x| x.path.display()).collect()
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn gnu_tar_lists_and_extracts_the_same_entries() {
    if !have("tar") {
        unavailable::unavailable("the GNU tar comparison", "GNU tar is not installed");
        return;
    }
    let (t, sb, out) = packed();
    let o = Command::new("tar").arg("-tzf").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed: BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect();
    assert_eq!(listed, our_names(&out));
    let v = Command::new("tar").arg("-tzvf").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).contains("alias -> model.safetensors"));
    let dest = t.path().join("x");
    std::fs::create_dir(&dest).unwrap();
    let x = Command::new("tar")
        .arg("-xzf")
        .arg(&out)
        .arg("-C")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let a = packtest::layout::Digest::of_tree(&sb.model_dir(), None).unwrap();
    let b = packtest::layout::Digest::of_tree(&dest, None).unwrap();
    assert_eq!(
        a.changes(&b),
        Vec::<String>::new(),
        "extracted tree differs from the model dir"
    );
}

#[test]
fn python_tarfile_reads_the_same_entries_and_bytes() {
    if !have("python3") {
        unavailable::unavailable("the Python tarfile comparison", "python3 is not installed");
        return;
    }
    let (_t, _sb, out) = packed();
    let script = r#"
import sys, tarfile, hashlib
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t.getmembers():
        h = hashlib.sha256(t.extractfile(m).read()).hexdigest()[:12] if m.isfile() else "-"
        print(m.name.rstrip("/"), h, sep="\t")
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = packtest::archive::Manifest::read_path(&out, Default::default()).unwrap();
    let ours: BTreeSet<String> = m
        .members
        .iter()
        .map(|x| {
            format!(
                "{}\t{}",
                x.path.display(),
                x.sha256
                    .map(|h| packtest::RawPath::new(h[..6].to_vec()).to_hex())
                    .unwrap_or("-".into())
            )
        })
        .collect();
    let theirs: BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(theirs, ours);
}

#[test]
fn igzip_and_gzip_accept_the_reference_output() {
    let (_t, _sb, out) = packed();
    for (tool, args) in [("gzip", vec!["-t"]), ("igzip", vec!["-d", "-c"])] {
        if !have(tool) {
            unavailable::unavailable(&format!("the {tool} check"), "not installed");
            continue;
        }
        let o = Command::new(tool).args(&args).arg(&out).output().unwrap();
        assert!(
            o.status.success(),
            "{tool} rejected the output: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

fn pack_at(model_dir: &Path, out: &Path, level: u32, format: ArchiveFormat) -> Vec<u8> {
    let options = PackOptions {
        level,
        format,
        target: packtest::target::Target::Posix,
        ..PackOptions::default()
    };
    ReferencePackager { options }
        .pack_dir(model_dir, out)
        .unwrap();
    std::fs::read(out).unwrap()
}

/// `tool args… < input`, its stdout; `what` names the input in a failure.
fn pipe(what: &str, tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written on a thread: the tool's stdout fills while its stdin is still being fed.
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let o = child.wait_with_output().unwrap();
    // A tool that rejects its input exits before reading it all: its status says why.
    let fed = feeder.join().unwrap();
    assert!(
        o.status.success(),
        "{what}: {tool} {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    fed.unwrap();
    o.stdout
}

#[test]
fn gzip_and_igzip_read_every_level_back_to_the_same_tar() {
    // Text over several blocks, so that LZ blocks (not only Huffman-only and stored ones) are
    // joined by sync flushes at every level.
    let sb = Sandbox::materialize(&layout().with(Entry::file(
        Root::Model,
        "vocab.txt",
        Content::Seeded {
            seed: 8,
            size: 2_500_000,
            fill: Fill::Text,
        },
    )))
    .unwrap();
    let t = tempfile::tempdir().unwrap();
    let tar = pack_at(
        &sb.model_dir(),
        &t.path().join("m.tar"),
        6,
        ArchiveFormat::Tar,
    );
    let tools: Vec<&str> = ["gzip", "igzip"]
        .into_iter()
        .filter(|&tool| {
            let ok = have(tool);
            if !ok {
                unavailable::unavailable(
                    &format!("the {tool} check of every level"),
                    "not installed",
                );
            }
            ok
        })
        .collect();
    for level in 0..=9 {
        let gz = pack_at(
            &sb.model_dir(),
            &t.path().join(format!("m{level}.tar.gz")),
            level,
            ArchiveFormat::TarGz,
        );
        for &tool in &tools {
            assert!(
                pipe(&format!("level {level}"), tool, &["-d", "-c"], &gz) == tar,
                "{tool} -d of level {level} is not the tar"
            );
        }
    }
}

/// Word text from a seeded vocabulary of `vocab` words (the 16-word `Fill::Text` is only one
/// shape of text).
fn prose(seed: u64, vocab: u64, size: usize) -> Vec<u8> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let words: Vec<Vec<u8>> = (0..vocab)
        .map(|_| {
            (0..2 + next() % 9)
                .map(|_| b'a' + (next() % 26) as u8)
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(size + 16);
    while out.len() < size {
        let r = next();
        out.extend_from_slice(&words[((r % vocab) * ((r >> 20) % vocab) / vocab) as usize]);
        out.push(if (r >> 40) % 12 == 0 { b'\n' } else { b' ' });
    }
    out.truncate(size);
    out
}

#[test]
fn each_level_is_within_two_percent_of_gzip_at_that_level_on_text() {
    if !have("gzip") {
        unavailable::unavailable(
            "the size comparison with gzip -1..-9",
            "gzip is not installed",
        );
        return;
    }
    // 1,000 text files of 4 KiB as a tar (what `benches/compare.sh` packs, smaller), and
    // 3 MiB streams of text with 16 and with 1,000 distinct words.
    let mut small = Layout::new();
    for i in 0..1000u64 {
        small = small.with(Entry::file(
            Root::Model,
            format!("d{:02}/f{i:04}.txt", i % 10),
            Content::Seeded {
                seed: i,
                size: 4096,
                fill: Fill::Text,
            },
        ));
    }
    let sb = Sandbox::materialize(&small).unwrap();
    let t = tempfile::tempdir().unwrap();
    let tar = pack_at(
        &sb.model_dir(),
        &t.path().join("s.tar"),
        6,
        ArchiveFormat::Tar,
    );
    let words = Content::Seeded {
        seed: 7,
        size: 3 << 20,
        fill: Fill::Text,
    }
    .to_vec();
    let inputs = [
        ("small files", tar),
        ("16 words", words),
        ("1,000 words", prose(9, 1000, 3 << 20)),
    ];
    for (name, data) in &inputs {
        for level in 1..=9u32 {
            let mut w = PgzWriter::new(Vec::new(), level, 2).unwrap();
            w.write_all(data).unwrap();
            let ours = w.finish().unwrap().0.len();
            let theirs = pipe(name, "gzip", &[&format!("-{level}"), "-n", "-c"], data).len();
            assert!(
                ours as f64 <= theirs as f64 * 1.02,
                "{name}: level {level} is {ours} bytes, gzip -{level} {theirs} ({:.3}x)",
                ours as f64 / theirs as f64
            );
        }
    }
}
