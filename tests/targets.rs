//! Deploy targets end to end (DESIGN §2): the contract per target on real packagers, the
//! reference packager on every target in both profiles, and `packtest unpack`'s exit codes and
//! confinement on hostile archives.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use packtest::outcome::CaseStatus;
use packtest::target::Target;
use packtest::{CommandPackager, Harness, Packager, ReferencePackager};
use predicates::prelude::*;

fn packtest() -> Command {
    Command::cargo_bin("packtest").expect("the packtest binary is built")
}

/// The broken properties of a run, with the text report for the assertion message.
fn broken(p: impl Packager, target: Target, strict: bool, cases: u64) -> (Vec<String>, String) {
    let mut h = Harness::new(p)
        .cases(cases)
        .seed(14)
        .target(target)
        .no_shrink();
    if strict {
        h = h.strict();
    }
    let report = h.run().result.expect("the run happens");
    let text = packtest::report::text(&report, Default::default());
    let mut props: Vec<String> = report
        .results
        .iter()
        .filter_map(|c| match &c.status {
            CaseStatus::Failed { violations, .. } => Some(violations.clone()),
            _ => None,
        })
        .flatten()
        .map(|v| v.property.id().to_owned())
        .collect();
    props.sort();
    props.dedup();
    (props, text)
}

#[test]
fn the_reference_packager_passes_every_target_in_both_profiles() {
    for target in Target::ALL {
        for strict in [false, true] {
            let (b, text) = broken(ReferencePackager::for_target(target), target, strict, 150);
            assert!(b.is_empty(), "{target} strict={strict}: {b:?}\n{text}");
        }
    }
}

#[test]
fn a_packager_for_one_target_is_caught_on_another() {
    // posix keeps links and FIFOs: SageMaker hosting cannot extract them.
    let (b, _) = broken(
        ReferencePackager::for_target(Target::Posix),
        Target::Sagemaker,
        false,
        150,
    );
    assert!(b.contains(&"member-types".to_string()), "{b:?}");
    // sagemaker copies internal links: GNU tar would have kept them, so `posix` sees files
    // where links were, and refusals where posix takes everything.
    let (b, _) = broken(
        ReferencePackager::for_target(Target::Sagemaker),
        Target::Posix,
        false,
        150,
    );
    assert!(b.contains(&"fidelity".to_string()), "{b:?}");
    assert!(b.contains(&"exit-and-output".to_string()), "{b:?}");
}

#[test]
fn gnu_tar_fails_sagemaker_with_member_types_and_passes_posix() {
    let tar = || CommandPackager::parse("tar -czf {output} -C {model_dir} .").unwrap();
    let (b, text) = broken(tar(), Target::Sagemaker, false, 120);
    assert_eq!(b, ["member-types"], "{text}");
    let (b, text) = broken(tar(), Target::Posix, false, 120);
    assert!(b.is_empty(), "{text}");
}

fn model_with_links(root: &Path) -> PathBuf {
    let m = root.join("model");
    fs::create_dir_all(m.join("ckpt/sub")).unwrap();
    fs::write(m.join("ckpt/sub/w.bin"), b"weights").unwrap();
    fs::write(m.join("config.json"), b"{}").unwrap();
    std::os::unix::fs::symlink("ckpt", m.join("latest")).unwrap();
    std::os::unix::fs::symlink("config.json", m.join("alias.json")).unwrap();
    m
}

#[test]
fn pack_for_sagemaker_copies_internal_links_and_refuses_escaping_ones() {
    let t = tempfile::tempdir().unwrap();
    let m = model_with_links(t.path());
    let out = t.path().join("model.tar.gz");
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    packtest()
        .arg("inspect")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("latest/sub/w.bin"))
        .stdout(predicate::str::contains("symlink").not());
    // What hosting gets: the same bytes under both names.
    let u = t.path().join("u");
    packtest()
        .arg("unpack")
        .arg(&out)
        .arg(&u)
        .assert()
        .success();
    assert_eq!(fs::read(u.join("latest/sub/w.bin")).unwrap(), b"weights");
    assert_eq!(fs::read(u.join("alias.json")).unwrap(), b"{}");
    // An escaping link: refused, naming the path and the fix; no archive.
    std::os::unix::fs::symlink("/etc/hostname", m.join("host")).unwrap();
    let out2 = t.path().join("esc.tar.gz");
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(&out2)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("host"))
        .stderr(predicate::str::contains("leaves the model dir"));
    assert!(!out2.exists());
    // posix stores it.
    packtest()
        .args(["pack", "--target", "posix"])
        .arg(&m)
        .arg("-o")
        .arg(&out2)
        .assert()
        .success();
}

#[test]
fn unpack_follows_the_consumer_and_refuses_bad_input_with_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let m = model_with_links(t.path());
    let out = t.path().join("posix.tar.gz");
    packtest()
        .args(["pack", "--target", "posix"])
        .arg(&m)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    // SageMaker hosting refuses links: exit 1, nothing written.
    let u = t.path().join("sm");
    packtest()
        .arg("unpack")
        .arg(&out)
        .arg(&u)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("symlink member"));
    assert!(!u.exists(), "a refused unpack created its destination");
    // GNU tar and Python's data filter take relative internal links.
    for target in ["posix", "kserve"] {
        let u = t.path().join(target);
        packtest()
            .args(["unpack", "--target", target])
            .arg(&out)
            .arg(&u)
            .assert()
            .success();
        assert_eq!(fs::read_link(u.join("latest")).unwrap(), Path::new("ckpt"));
    }
    // Bad input: an unknown target, a non-empty dir, a file that is not an archive.
    packtest()
        .args(["unpack", "--target", "triton"])
        .arg(&out)
        .arg(t.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sagemaker, posix, kserve"));
    packtest()
        .args(["unpack", "--target", "posix"])
        .arg(&out)
        .arg(t.path().join("posix"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not empty"));
    let junk = t.path().join("junk.tar.gz");
    fs::write(&junk, b"not an archive at all, not even close").unwrap();
    packtest()
        .arg("unpack")
        .arg(&junk)
        .arg(t.path().join("y"))
        .assert()
        .code(2);
    packtest()
        .arg("unpack")
        .arg(&out)
        .arg("/proc/packtest-cannot-create/here")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be created"));
}

/// Raw tar header bytes, so names and link targets are exactly what a hostile archive holds.
fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// A member of a hand-made archive: name, typeflag, link target, data.
type Raw<'a> = (&'a [u8], u8, &'a [u8], &'a [u8]);

fn archive(members: &[Raw<'_>]) -> Vec<u8> {
    let mut v = Vec::new();
    for (name, t, link, data) in members {
        v.extend_from_slice(&header(name, *t, data.len() as u64, link));
        v.extend_from_slice(data);
        v.resize(v.len().div_ceil(512) * 512, 0);
    }
    v.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&v).unwrap();
    gz.finish().unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .map(|e| {
            e.unwrap()
                .path()
                .strip_prefix(dir)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn unpack_never_writes_outside_its_directory_on_hostile_archives() {
    let cases: Vec<(&str, Vec<Raw<'_>>)> = vec![
        ("dotdot", vec![(b"../evil.txt", b'0', b"", b"x")]),
        ("deep-dotdot", vec![(b"a/../../evil.txt", b'0', b"", b"x")]),
        ("absolute", vec![(b"/evil.txt", b'0', b"", b"x")]),
        (
            "write-through-absolute-link",
            vec![(b"l", b'2', b"/tmp", b""), (b"l/evil.txt", b'0', b"", b"x")],
        ),
        (
            "write-through-escaping-link",
            vec![(b"l", b'2', b"..", b""), (b"l/evil.txt", b'0', b"", b"x")],
        ),
        (
            "write-through-chain",
            vec![
                (b"a", b'2', b".", b""),
                (b"b", b'2', b"a/..", b""),
                (b"b/evil.txt", b'0', b"", b"x"),
            ],
        ),
        ("hardlink-out", vec![(b"h", b'1', b"../evil.txt", b"")]),
        (
            "file-then-symlink-same-name",
            vec![
                (b"x", b'0', b"", b"x"),
                (b"x", b'2', b"../evil.txt", b""),
                (b"x", b'0', b"", b"y"),
            ],
        ),
    ];
    for (name, members) in cases {
        for target in Target::ALL {
            let t = tempfile::tempdir().unwrap();
            let a = t.path().join("a.tar.gz");
            fs::write(&a, archive(&members)).unwrap();
            let dest = t.path().join("box/dest");
            fs::create_dir_all(t.path().join("box")).unwrap();
            let before = listing(t.path());
            let r = packtest()
                .args(["unpack", "--target", target.id()])
                .arg(&a)
                .arg(&dest)
                .assert();
            let code = r.get_output().status.code();
            assert!(
                matches!(code, Some(0) | Some(1)),
                "{name} {target}: exit {code:?}"
            );
            let after: Vec<String> = listing(t.path())
                .into_iter()
                .filter(|p| !p.starts_with("box/dest"))
                .collect();
            let before: Vec<String> = before
                .into_iter()
                .filter(|p| !p.starts_with("box/dest"))
                .collect();
            assert_eq!(
                before, after,
                "{name} {target}: something was written outside DIR"
            );
            assert!(
                !Path::new("/tmp/evil.txt").exists(),
                "{name} {target}: /tmp/evil.txt"
            );
        }
    }
}

#[test]
fn the_readme_carries_the_contract_that_packtest_contract_prints() {
    let out = packtest().arg("contract").assert().success();
    let printed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let body = printed.split_once('\n').unwrap().1.trim_start_matches('\n');
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("<!-- contract:start -->\n")
        .expect("README has the contract block");
    let end = readme
        .find("<!-- contract:end -->")
        .expect("README has the contract block end");
    let block = &readme[start + "<!-- contract:start -->\n".len()..end];
    assert!(
        block == body,
        "README's contract block is stale; regenerate it from `packtest contract`"
    );
    packtest()
        .args(["contract", "--target", "kserve"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("`kserve` expects")
                .and(predicate::str::contains("`posix` expects").not()),
        );
}
