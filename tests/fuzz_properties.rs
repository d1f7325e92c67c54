//! The `fuzz/` targets as proptest properties, so `cargo test` exercises them on stable Rust,
//! plus a long random-mutation soak (`#[ignore]`, run by hand) over valid archives.
//!
//! Properties, for every input: the archive reader never panics, the lenient and strict
//! readers agree, every name problem points at a member, the detector's archive rules and the
//! JSON form never panic, and a read stays under a time bound; the layout and scenario TOML
//! parsers never panic, and whatever parses round-trips through `to_toml`; the model-file
//! readers (`packtest::formats`) never panic on arbitrary or mutated model files.
//!
//! Mutations start from valid archives (the reference packager's output for every scenario in
//! `scenarios/`, as `.tar.gz` and as plain `.tar`) and from the hostile corpus, and are
//! tar-aware: besides flips, cuts and splices, they rewrite a header field and then fix the
//! header checksum, so the parser gets past its checksum gate into the field logic.
//!
//! Soak: `FUZZ_SOAK_SECS=600 cargo test --release --test fuzz_properties soak -- --ignored
//! --nocapture` mutates for that long and prints executions, classes seen and any panic (the
//! input is saved to `$FUZZ_SOAK_DIR`, default the system temp dir).

#[path = "hostile_archives/blocks.rs"]
#[allow(dead_code)]
mod blocks;
#[path = "hostile_archives/cases.rs"]
#[allow(dead_code)]
mod cases;

use std::collections::BTreeMap;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use packtest::archive::{Limits, Manifest};
use packtest::layout::{Layout, Sandbox};
use packtest::ReferencePackager;

const LIMITS: Limits = Limits {
    max_unpacked: Some(64 << 20),
    max_metadata: 1 << 20,
    max_members: Some(100_000),
};

/// One read must finish within this (generous: a shared 2-core machine, unoptimized build).
const READ_BOUND: Duration = Duration::from_secs(5);

fn config(cases: u32) -> Config {
    packtest::strategy::ci_config(cases, "PROPTEST_RNG_SEED", 7_2026)
}

/// The fuzz target `archive_reader`: returns the error class, if any.
fn exercise_reader(data: &[u8]) -> Option<&'static str> {
    let start = Instant::now();
    let (m, err) = Manifest::read_lenient(data, LIMITS);
    let elapsed = start.elapsed();
    assert!(
        elapsed < READ_BOUND,
        "a read of {} bytes took {elapsed:?}",
        data.len()
    );
    if let Some(e) = &err {
        assert!(!e.class().is_empty());
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(Manifest::read(data, LIMITS).is_ok(), err.is_none());
    for p in m.name_problems() {
        assert!(p.index < m.members.len());
    }
    let _ = packtest::detect::detect_archive(&m, &Default::default());
    serde_json::to_string(&m).expect("a manifest always serializes");
    err.map(|e| e.class())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    blocks::gz_level(data, 1)
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut v)
        .expect("a valid seed");
    v
}

/// Valid archives to mutate: the reference packager's output for every scenario layout the
/// host can build, as `.tar.gz` and as the plain `.tar` inside.
fn reference_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let lib = packtest::scenario::ScenarioLibrary::load_dir(&dir).expect("scenarios load");
        let mut seeds = Vec::new();
        for (_, layout, _) in lib.scenarios.values() {
            let Ok(sb) = Sandbox::materialize(layout) else {
                continue;
            };
            let out = sb.root().join("out/model.tar.gz");
            if ReferencePackager::for_target(packtest::target::Target::Posix)
                .pack_dir(&sb.model_dir(), &out)
                .is_ok()
            {
                let gz = std::fs::read(&out).expect("read the archive");
                seeds.push(gunzip(&gz));
                seeds.push(gz);
            }
        }
        assert!(seeds.len() >= 20, "only {} seeds", seeds.len());
        seeds
    })
}

/// The hostile corpus, minus the cases that are slow to build.
fn hostile_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        cases::cases()
            .into_iter()
            .filter(|c| !c.name.starts_with("gzip-bomb"))
            .map(|c| (c.build)())
            .collect()
    })
}

/// One mutation, tar-aware: `ops` drive it (a tiny deterministic interpreter, so proptest can
/// shrink the list).
fn mutate(seed: &[u8], ops: &[(u8, u32, u32)]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for &(op, a, b) in ops {
        if d.is_empty() {
            d.push(a as u8);
            continue;
        }
        let at = a as usize % d.len();
        match op % 10 {
            // Flip bits in one byte.
            0 => d[at] ^= (b as u8) | 1,
            // Set a byte to an interesting value.
            1 => d[at] = [0, 0xff, b'0', b'7', b' ', b'\n', b'=', 0x80][b as usize % 8],
            // Cut the tail.
            2 => d.truncate(at),
            // Delete a range.
            3 => {
                let end = (at + 1 + b as usize % 1024).min(d.len());
                d.drain(at..end);
            }
            // Duplicate a range (a repeated header or record).
            4 => {
                let end = (at + 1 + b as usize % 1024).min(d.len());
                let chunk = d[at..end].to_vec();
                let to = b as usize % d.len();
                d.splice(to..to, chunk);
            }
            // Insert a run of one byte.
            5 => {
                let run = vec![b as u8; 1 + (b as usize >> 8) % 600];
                d.splice(at..at, run);
            }
            // Rewrite a numeric header field with digits or base-256, then fix the checksum
            // (plain tar only: under gzip the offsets mean nothing).
            6..=8 => {
                let block = at / 512 * 512;
                if block + 512 <= d.len() {
                    let fields: [(usize, usize); 6] =
                        [(100, 8), (108, 8), (124, 12), (136, 12), (156, 1), (482, 1)];
                    let (off, len) = fields[b as usize % fields.len()];
                    let field = &mut d[block + off..block + off + len];
                    match op % 10 {
                        6 => {
                            let s = format!("{:0w$o}", u64::from(b) * 4099, w = len);
                            field.copy_from_slice(&s.as_bytes()[s.len() - len..]);
                        }
                        7 => {
                            field.fill(0);
                            field[0] = 0x80 | (b as u8 & 0x7f);
                            field[len - 1] = b as u8;
                        }
                        _ => field[0] = b"0123456LKxgS5\0"[b as usize % 14],
                    }
                    let h = &mut d[block..block + 512];
                    h[148..156].fill(b' ');
                    let sum: u32 = h.iter().map(|x| u32::from(*x)).sum();
                    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
                }
            }
            // Splice in a pax record with a random key and length.
            _ => {
                let keys = ["path", "size", "linkpath", "mtime", "uid", "gid", "x"];
                let rec = format!(
                    "{} {}={}\n",
                    b % 40,
                    keys[b as usize % keys.len()],
                    u64::from(a) * 7919
                );
                d.splice(at..at, rec.into_bytes());
            }
        }
    }
    d
}

fn mutation_ops() -> impl Strategy<Value = Vec<(u8, u32, u32)>> {
    vec((any::<u8>(), any::<u32>(), any::<u32>()), 1..8)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(data in vec(any::<u8>(), 0..4096)) {
        exercise_reader(&data);
    }

    #[test]
    fn the_reader_never_panics_on_gzip_wrapped_bytes(data in vec(any::<u8>(), 0..8192)) {
        exercise_reader(&gzip(&data));
    }

    #[test]
    fn the_reader_never_panics_on_mutated_reference_archives(
        pick in any::<prop::sample::Index>(),
        ops in mutation_ops(),
    ) {
        let seeds = reference_seeds();
        let seed = &seeds[pick.index(seeds.len())];
        let m = mutate(seed, &ops);
        exercise_reader(&m);
        // The same mutation under a valid gzip layer reaches the tar parser too.
        if !seed.starts_with(&[0x1f, 0x8b]) {
            exercise_reader(&gzip(&m));
        }
    }

    #[test]
    fn the_reader_never_panics_on_mutated_hostile_archives(
        pick in any::<prop::sample::Index>(),
        ops in mutation_ops(),
    ) {
        let seeds = hostile_seeds();
        exercise_reader(&mutate(&seeds[pick.index(seeds.len())], &ops));
    }
}

/// Layout TOML of every scenario (the `[layout]` part as a standalone layout file).
fn layout_seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let lib = packtest::scenario::ScenarioLibrary::load_dir(&dir).expect("scenarios load");
        lib.scenarios
            .values()
            .map(|(_, l, _)| l.to_toml())
            .collect()
    })
}

/// The fuzz target `layout_toml`.
fn exercise_layout_toml(text: &str) {
    if let Ok(layout) = Layout::from_toml(text) {
        let again = Layout::from_toml(&layout.to_toml()).expect("to_toml output parses");
        assert_eq!(again, layout);
    }
}

/// The fuzz target `scenario_toml`.
fn exercise_scenario_toml(text: &str) {
    let path = std::path::Path::new("scenarios/fuzz.toml");
    if let Ok((_, layout)) = packtest::scenario::Scenario::parse(path, text) {
        let _ = packtest::scenario::render_tree(&layout);
    }
}

/// Mutates text by the same interpreter, keeping only valid UTF-8.
fn mutate_text(seed: &str, ops: &[(u8, u32, u32)]) -> String {
    String::from_utf8_lossy(&mutate(seed.as_bytes(), ops)).into_owned()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_layout_parser_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        exercise_layout_toml(&text);
    }

    #[test]
    fn the_layout_parser_never_panics_on_mutated_layouts(
        pick in any::<prop::sample::Index>(),
        ops in mutation_ops(),
    ) {
        let seeds = layout_seeds();
        exercise_layout_toml(&mutate_text(&seeds[pick.index(seeds.len())], &ops));
    }

    #[test]
    fn generated_layouts_round_trip_through_toml(layout in packtest::strategy::job_layout()) {
        let again = Layout::from_toml(&layout.to_toml()).expect("to_toml output parses");
        prop_assert_eq!(again, layout);
    }

    #[test]
    fn the_scenario_parser_never_panics_on_mutated_scenarios(
        pick in any::<prop::sample::Index>(),
        ops in mutation_ops(),
    ) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let text = std::fs::read_to_string(&files[pick.index(files.len())]).unwrap();
        // The parser insists that `id` matches the file name.
        let text: String = text
            .lines()
            .map(|l| if l.starts_with("id = ") { "id = \"fuzz\"" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
        // Unmutated, it must parse: otherwise the property only ever sees errors.
        prop_assert!(packtest::scenario::Scenario::parse(std::path::Path::new("scenarios/fuzz.toml"), &text).is_ok());
        exercise_scenario_toml(&mutate_text(&text, &ops));
    }
}

/// xorshift64*, for the soak loop (no proptest overhead, no shrinking).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
#[ignore = "long-running: set FUZZ_SOAK_SECS"]
fn soak() {
    let secs: u64 = std::env::var("FUZZ_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let save = std::env::var_os("FUZZ_SOAK_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let mut seeds: Vec<Vec<u8>> = reference_seeds().to_vec();
    seeds.extend(hostile_seeds().iter().cloned());
    let mut rng = Rng(std::env::var("FUZZ_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed));
    let start = Instant::now();
    let (mut execs, mut panics, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let mut classes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed() < Duration::from_secs(secs) {
        let seed = &seeds[rng.next() as usize % seeds.len()];
        let n = 1 + rng.next() as usize % 8;
        let ops: Vec<(u8, u32, u32)> = (0..n)
            .map(|_| (rng.next() as u8, rng.next() as u32, rng.next() as u32))
            .collect();
        let mut input = mutate(seed, &ops);
        if rng.next() % 4 == 0 && !input.starts_with(&[0x1f, 0x8b]) {
            input = gzip(&input);
        }
        let t = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| exercise_reader(&input))) {
            Ok(class) => *classes.entry(class.unwrap_or("ok")).or_default() += 1,
            Err(_) => {
                panics += 1;
                let p = save.join(format!("soak-crash-{execs}.bin"));
                let _ = std::fs::write(&p, &input);
                eprintln!("PANIC on input saved to {}", p.display());
            }
        }
        slowest = slowest.max(t.elapsed());
        execs += 1;
    }
    std::panic::set_hook(quiet);
    eprintln!(
        "soak: {execs} executions in {:?} ({} seeds), {panics} panics, slowest read {slowest:?}",
        start.elapsed(),
        seeds.len()
    );
    eprintln!("outcomes: {classes:?}");
    assert_eq!(panics, 0);
}

/// `FUZZ_SEEDS=fuzz/corpus cargo test --test fuzz_properties dump_seeds -- --ignored` writes
/// seed corpora for the cargo-fuzz targets.
#[test]
#[ignore = "writes seed corpora to $FUZZ_SEEDS"]
fn dump_seeds() {
    let root = std::path::PathBuf::from(std::env::var_os("FUZZ_SEEDS").expect("FUZZ_SEEDS"));
    let write = |target: &str, i: usize, bytes: &[u8]| {
        let d = root.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{i:04}")), bytes).unwrap();
    };
    let archives: Vec<&Vec<u8>> = reference_seeds().iter().chain(hostile_seeds()).collect();
    for (i, a) in archives.iter().enumerate() {
        write("archive_reader", i, a);
        let plain = if a.starts_with(&[0x1f, 0x8b]) {
            let mut v = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(a.as_slice()).read_to_end(&mut v);
            v
        } else {
            a.to_vec()
        };
        write("archive_reader_gzip", i, &plain);
    }
    for (i, t) in layout_seeds().iter().enumerate() {
        write("layout_toml", i, t.as_bytes());
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut i = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "toml") {
            let text: String = std::fs::read_to_string(e.path())
                .unwrap()
                .lines()
                .map(|l| {
                    if l.starts_with("id = ") {
                        "id = \"fuzz\""
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            write("scenario_toml", i, text.as_bytes());
            i += 1;
        }
    }
}

/// `FUZZ_REPLAY=fuzz/corpus/archive_reader cargo test --test fuzz_properties replay --
/// --ignored --nocapture` runs every file of a fuzz corpus (or crash artifacts) through the
/// reader properties on stable and prints the error classes reached.
#[test]
#[ignore = "reads $FUZZ_REPLAY"]
fn replay() {
    let dir = std::path::PathBuf::from(std::env::var_os("FUZZ_REPLAY").expect("FUZZ_REPLAY"));
    let gzip_first = dir.to_string_lossy().contains("gzip");
    let mut classes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let data = std::fs::read(e.path()).unwrap();
        let data = if gzip_first { gzip(&data) } else { data };
        *classes
            .entry(exercise_reader(&data).unwrap_or("ok"))
            .or_default() += 1;
        n += 1;
    }
    eprintln!("replayed {n} inputs from {}: {classes:?}", dir.display());
}

/// The fuzz target `model_formats`: every format reader on `data`, under the time bound.
fn exercise_formats(data: &[u8]) {
    use packtest::formats::{check, Kind};
    let start = Instant::now();
    for kind in Kind::ALL {
        if let Ok(r) = check(kind, data, data.len() as u64) {
            let _ = r.unsafe_imports().count();
        }
    }
    let _ = packtest::formats::read_index(data, data.len() as u64);
    assert!(start.elapsed() < READ_BOUND, "{:?}", start.elapsed());
}

/// packtest's own model files, every format, to mutate.
fn format_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        use packtest::layout::{Content, ModelFormat};
        let mut v: Vec<Vec<u8>> = [
            ModelFormat::Safetensors,
            ModelFormat::TorchZip,
            ModelFormat::SavedModelPb,
            ModelFormat::KerasH5,
            ModelFormat::Onnx,
            ModelFormat::XgboostJson,
            ModelFormat::Joblib,
        ]
        .into_iter()
        .map(|f| Content::format(f, 5, 300).to_vec())
        .collect();
        v.push(b"cposix\nsystem\n(Vecho\ntR.".to_vec());
        v
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn the_model_file_readers_never_panic_on_arbitrary_bytes(data in vec(any::<u8>(), 0..4096)) {
        exercise_formats(&data);
    }

    #[test]
    fn the_model_file_readers_never_panic_on_mutated_model_files(
        pick in any::<prop::sample::Index>(),
        ops in mutation_ops(),
    ) {
        let seeds = format_seeds();
        exercise_formats(&mutate(&seeds[pick.index(seeds.len())], &ops));
    }
}
