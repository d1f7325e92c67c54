//! `packtest scenarios`, `packtest materialize` and `packtest contract`: the scenario
//! library, building a layout file on disk, and the contract text.

use std::path::Path;

use packtest::target::Target;

use super::args::ScenariosAction;
use super::exit::{failed, usage, CliError, Status};

pub(super) fn scenarios(dir: &Path, action: ScenariosAction) -> Result<Status, CliError> {
    use packtest::scenario::{self, ScenarioLibrary};
    let lib = ScenarioLibrary::load_dir(dir)?;
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
            eprintln!("{} scenarios in `{}`", lib.scenarios.len(), dir.display());
        }
        ScenariosAction::Show { id } => {
            let (s, layout, path) = lib.get(&id)?;
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

pub(super) fn materialize(file: &Path, dir: &Path) -> Result<Status, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| usage(anyhow::anyhow!("cannot read `{}`: {e}", file.display())))?;
    let (_, named) =
        packtest::replay::load_file(file, &text).map_err(|e| usage(anyhow::anyhow!(e)))?;
    let layout = named.layout;
    let sb = packtest::Sandbox::materialize_at(dir, &layout)?;
    println!("{}", sb.model_dir().display());
    eprintln!(
        "built {} entries under `{}` (model dir printed on stdout)",
        layout.entries.len(),
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
