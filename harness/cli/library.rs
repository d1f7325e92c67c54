//! `packtest scenarios`, `packtest materialize` and `packtest contract`: the scenario
//! library, building a layout file on disk, and the contract text.

use std::path::{Path, PathBuf};

use packtest::target::Target;

use super::args::ScenariosAction;
use super::exit::{failed, usage, CliError, Status};

/// The library `packtest scenarios` works on: the built-in one plus each `--dir`, or for
/// `docs`, the dirs alone when any is given.
fn library(
    dirs: &[PathBuf],
    dirs_alone: bool,
) -> Result<(packtest::scenario::ScenarioLibrary, String), CliError> {
    use packtest::scenario::ScenarioLibrary;
    let alone = dirs_alone && !dirs.is_empty();
    let mut lib = if alone {
        ScenarioLibrary::default()
    } else {
        ScenarioLibrary::built_in().map_err(failed)?
    };
    for dir in dirs {
        let own = ScenarioLibrary::load_dir(dir).map_err(|e| {
            usage(anyhow::anyhow!(
                "{e}\n(`--dir DIR` adds a team's own scenarios to the built-in library; without it, `packtest scenarios list` shows the built-in ones from any directory)"
            ))
        })?;
        lib.overlay(own);
    }
    let mut from: Vec<String> = Vec::new();
    if !alone {
        from.push("the built-in library".into());
    }
    from.extend(dirs.iter().map(|d| format!("`{}`", d.display())));
    Ok((lib, from.join(" and ")))
}

pub(super) fn scenarios(dirs: &[PathBuf], action: ScenariosAction) -> Result<Status, CliError> {
    use packtest::scenario;
    let docs = matches!(action, ScenariosAction::Docs { .. });
    let (lib, from) = library(dirs, docs)?;
    match action {
        ScenariosAction::List => {
            for (s, _, _) in lib.scenarios.values() {
                println!(
                    "{:<42} {:<12} {:<50} {}",
                    s.id,
                    format!("{:?}", s.framework).to_lowercase(),
                    s.expect.codes.join(","),
                    s.title
                );
            }
            let n = lib.scenarios.len();
            eprintln!("{n} scenario{} from {from}", if n == 1 { "" } else { "s" });
        }
        ScenariosAction::Show { id } => {
            let (s, layout, path) = lib.get(&id).map_err(unknown_id)?;
            println!("{} ({})\n", s.title, path.display());
            println!("{}\n", s.summary);
            print!("{}", scenario::render_tree(layout));
            println!(
                "\nexpected codes: {}",
                if s.expect.codes.is_empty() {
                    "none".into()
                } else {
                    s.expect.codes.join(", ")
                }
            );
            for t in Target::ALL {
                let e = s.expect.targets.get(t);
                println!(
                    "{t}: reference packager {:?}; a typical archive {:?}: {}",
                    e.reference_packager, e.typical_archive, e.consumer
                );
            }
            println!("fix: {}", s.fix);
            for src in &s.sources {
                println!("source: {src}");
            }
        }
        ScenariosAction::Docs { check } => {
            let text = scenario::render_docs(&lib).map_err(|e| failed(anyhow::anyhow!(e)))?;
            if check {
                let [dir] = dirs else {
                    return Err(usage(anyhow::anyhow!(
                        "`scenarios docs --check` compares DIR/README.md: give exactly one `--dir DIR`"
                    )));
                };
                let path = dir.join("README.md");
                let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
                if on_disk != text {
                    return Err(failed(anyhow::anyhow!(
                        "`{}` is stale; regenerate it with `packtest scenarios --dir {} docs > {}`",
                        path.display(),
                        dir.display(),
                        path.display()
                    )));
                }
                eprintln!("`{}` is up to date", path.display());
            } else {
                print!("{text}");
            }
        }
    }
    Ok(Status::Ok)
}

/// The exit-2 error for a scenario id that is not in the library: one line that names
/// `packtest scenarios list`, with the close ids when there are any.
fn unknown_id(e: packtest::scenario::ScenarioError) -> CliError {
    usage(unknown_id_message(e, ""))
}

/// What [`unknown_id`] says, with `also` after it.
fn unknown_id_message(e: packtest::scenario::ScenarioError, also: &str) -> anyhow::Error {
    match e {
        packtest::scenario::ScenarioError::Unknown { id, close } => {
            let close = if close.is_empty() {
                String::new()
            } else {
                format!(" (did you mean: {}?)", close.join(", "))
            };
            anyhow::anyhow!(
                "no scenario `{id}`{close}; `packtest scenarios list` lists the scenario ids{also}"
            )
        }
        other => anyhow::Error::new(other),
    }
}

/// True when `arg` can only be a scenario id, not a path: no `/` and no `.toml`.
fn looks_like_id(arg: &Path) -> bool {
    let s = arg.as_os_str().as_encoded_bytes();
    !s.is_empty() && !s.contains(&b'/') && !s.ends_with(b".toml")
}

/// The layout `materialize` builds: from a file (a layout TOML, a scenario file, a saved
/// failure) when `what` names one, or else from the built-in scenario of that id.
fn layout_to_materialize(what: &Path) -> Result<packtest::layout::Layout, CliError> {
    if !what.exists() && looks_like_id(what) {
        let id = what.to_string_lossy();
        let lib = packtest::scenario::ScenarioLibrary::built_in().map_err(failed)?;
        let (_, layout, _) = lib.get(&id).map_err(|e| {
            usage(unknown_id_message(
                e,
                " (or give a layout, scenario or saved-failure TOML file)",
            ))
        })?;
        return Ok(layout.clone());
    }
    let text = std::fs::read_to_string(what)
        .map_err(|e| usage(anyhow::anyhow!("cannot read `{}`: {e}", what.display())))?;
    let (_, named) =
        packtest::replay::load_file(what, &text).map_err(|e| usage(anyhow::anyhow!(e)))?;
    Ok(named.layout)
}

pub(super) fn materialize(what: &Path, dir: &Path) -> Result<Status, CliError> {
    let layout = layout_to_materialize(what)?;
    let sb = packtest::Sandbox::materialize_at(dir, &layout)?;
    println!("{}", sb.model_dir().display());
    eprintln!(
        "built {} {} under `{}` (model dir printed on stdout)",
        layout.entries.len(),
        if layout.entries.len() == 1 {
            "entry"
        } else {
            "entries"
        },
        dir.display()
    );
    Ok(Status::Ok)
}

pub(super) fn contract(target: Option<Target>) -> Result<Status, CliError> {
    let targets: Vec<Target> = match target {
        Some(t) => vec![t],
        None => Target::ALL.to_vec(),
    };
    print!("{}", packtest::target::contract_text(&targets));
    Ok(Status::Ok)
}
