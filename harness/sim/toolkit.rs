//! `--toolkit`: the entry point run by the real `sagemaker-training` package, as the
//! platform's framework containers run it (`train` → `sagemaker_training.trainer.train()`).
//!
//! The toolkit reads `hyperparameters.json`, `resourceconfig.json` and
//! `inputdataconfig.json` itself and sets the environment; packtest only adds the two
//! hyperparameters the SageMaker SDK adds for a script-mode job (`sagemaker_program`, the
//! script, and `sagemaker_submit_directory`, here the code dir the source dir was copied to,
//! which the toolkit then leaves as it is). With shared paths the toolkit is pointed at the
//! sandbox with `SAGEMAKER_BASE_DIR`.
//!
//! The Python is `PACKTEST_TOOLKIT_PYTHON`, or `target/toolkit-venv/bin/python3` in the
//! source tree packtest was built from (made by `tests/sim/toolkit-venv.sh`, pinned).

use std::path::{Path, PathBuf};

use super::SimError;

/// The variable naming the toolkit's Python.
pub const TOOLKIT_PYTHON_ENV: &str = "PACKTEST_TOOLKIT_PYTHON";

/// The toolkit's Python: `PACKTEST_TOOLKIT_PYTHON`, else the source tree's venv.
pub fn default_python() -> PathBuf {
    std::env::var_os(TOOLKIT_PYTHON_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/toolkit-venv/bin/python3")
        })
}

/// The entry point in `argv` (`python3 SCRIPT` or `SCRIPT`) and the dir it is in.
pub(super) fn entry_point(argv: &[String]) -> Result<(String, PathBuf), SimError> {
    let bad = || SimError::ToolkitEntryPoint(argv.join(" "));
    let script = match argv {
        [one] => one,
        [py, script] if py.starts_with("python") || py.ends_with("/python3") => script,
        _ => return Err(bad()),
    };
    let path = Path::new(script);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(bad)?
        .to_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((name, dir))
}

/// The command that runs the toolkit with `python`.
pub(super) fn command(python: &Path) -> Result<Vec<String>, SimError> {
    if !python.is_file() {
        return Err(SimError::ToolkitMissing(python.to_owned()));
    }
    Ok(vec![
        python.to_string_lossy().into_owned(),
        "-c".into(),
        "from sagemaker_training import trainer; trainer.train()".into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_point_is_the_script_and_its_dir() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (n, d) = entry_point(&v(&["python3", "src/train.py"])).unwrap();
        assert_eq!((n.as_str(), d.as_path()), ("train.py", Path::new("src")));
        let (n, d) = entry_point(&v(&["train.sh"])).unwrap();
        assert_eq!((n.as_str(), d.as_path()), ("train.sh", Path::new(".")));
        assert!(entry_point(&v(&["python3", "train.py", "--epochs", "3"])).is_err());
    }
}
