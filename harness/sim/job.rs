//! One host's job as the platform lays it out: the sandbox, the source dir in `opt/ml/code`,
//! the input channels, the three config files in `opt/ml/input/config/` and the environment
//! the training toolkit gives the script.
//!
//! The config files are written as SageMaker writes them: `hyperparameters.json` is a map of
//! strings (the CreateTrainingJob API takes strings only), `resourceconfig.json` names the
//! current host, every host and the one instance group, and `inputdataconfig.json` has one
//! entry per channel. The environment follows what `sagemaker-training` derives from them:
//! each hyperparameter value is read as JSON when it parses and kept as a string otherwise,
//! `SM_HPS` is the JSON of all of them (keys sorted, no spaces) and `SM_HP_<NAME>` is one
//! value (a string as is, anything else as JSON), the name upper-cased.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::SimError;
use crate::layout::{Layout, Sandbox};

/// The instance type the emulated job reports (a CPU type, as `SM_NUM_GPUS=0` says).
pub const INSTANCE_TYPE: &str = "ml.m5.xlarge";

/// What every host of the job shares.
#[derive(Clone, Debug)]
pub(super) struct JobSpec<'a> {
    /// Input channels.
    pub inputs: &'a [(String, PathBuf)],
    /// Copied into `opt/ml/code`.
    pub source_dir: Option<&'a Path>,
    /// As given, in order.
    pub hyperparameters: &'a [(String, String)],
    /// Extra `sagemaker_*` entries of `hyperparameters.json` (the toolkit's program and
    /// submit dir), never in `SM_HPS`.
    pub framework_params: Vec<(String, String)>,
    /// `algo-1` … `algo-N`.
    pub hosts: Vec<String>,
}

/// Copies the tree `src` into `dst` (links as links).
pub(super) fn copy_tree(src: &Path, dst: &Path) -> Result<(), SimError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| SimError::Copy { path, source }
    };
    for e in walkdir::WalkDir::new(src).follow_links(false) {
        let e = e.map_err(|e| SimError::Copy {
            path: src.to_owned(),
            source: e.into(),
        })?;
        let rel = e.path().strip_prefix(src).unwrap_or(e.path());
        let to = dst.join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&to).map_err(err(e.path()))?;
            continue;
        }
        // A later copy replaces what an earlier one put at the same path.
        match fs::symlink_metadata(&to) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&to).map_err(err(&to))?,
            Ok(_) => fs::remove_file(&to).map_err(err(&to))?,
            Err(_) => {}
        }
        if ft.is_symlink() {
            let t = fs::read_link(e.path()).map_err(err(e.path()))?;
            std::os::unix::fs::symlink(t, &to).map_err(err(e.path()))?;
        } else if ft.is_file() {
            fs::copy(e.path(), &to).map_err(err(e.path()))?;
        }
    }
    Ok(())
}

/// A hyperparameter's value as the toolkit reads it: JSON when it parses, else the string.
pub(super) fn hp_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// `SM_HP_<NAME>`'s value: a string as is, anything else as compact JSON.
fn env_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_json(path: &Path, v: &Value) -> Result<(), SimError> {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    fs::write(path, text).map_err(|source| SimError::Copy {
        path: path.to_owned(),
        source,
    })
}

/// `resourceconfig.json` for `host`.
pub(super) fn resource_config(spec: &JobSpec<'_>, host: &str) -> Value {
    json!({
        "current_host": host,
        "current_instance_type": INSTANCE_TYPE,
        "current_group_name": "homogeneousCluster",
        "hosts": spec.hosts,
        "instance_groups": [{
            "instance_group_name": "homogeneousCluster",
            "instance_type": INSTANCE_TYPE,
            "hosts": spec.hosts,
        }],
        "network_interface_name": "eth0",
    })
}

/// The channel names: the `--input` ones, or `train` when none is given.
pub(super) fn channels(spec: &JobSpec<'_>) -> Vec<String> {
    if spec.inputs.is_empty() {
        vec!["train".to_owned()]
    } else {
        spec.inputs.iter().map(|(n, _)| n.clone()).collect()
    }
}

/// Writes `opt/ml/input/config/hyperparameters.json`: every value a string.
pub(super) fn write_hyperparameters(spec: &JobSpec<'_>, sandbox: &Sandbox) -> Result<(), SimError> {
    let mut hps = Map::new();
    for (k, v) in spec.hyperparameters.iter().chain(&spec.framework_params) {
        hps.insert(k.clone(), Value::String(v.clone()));
    }
    let path = sandbox
        .root()
        .join("opt/ml/input/config/hyperparameters.json");
    write_json(&path, &Value::Object(hps))
}

/// Builds one host's sandbox: source dir, channels and config files.
pub(super) fn build_host(spec: &JobSpec<'_>, host: &str) -> Result<Sandbox, SimError> {
    let sandbox = Sandbox::materialize(&Layout::new())?;
    let ml = sandbox.root().join("opt/ml");
    let mk = |p: &Path| {
        fs::create_dir_all(p).map_err(|source| SimError::Copy {
            path: p.to_owned(),
            source,
        })
    };
    if let Some(src) = spec.source_dir {
        copy_tree(src, &sandbox.cwd())?;
    }
    for (name, path) in spec.inputs {
        let dst = ml.join("input/data").join(name);
        mk(&dst)?;
        copy_tree(path, &dst)?;
    }
    let config = ml.join("input/config");
    mk(&config)?;
    mk(&ml.join("output/data"))?;
    write_hyperparameters(spec, &sandbox)?;
    write_json(
        &config.join("resourceconfig.json"),
        &resource_config(spec, host),
    )?;
    let data_config: Map<String, Value> = channels(spec)
        .into_iter()
        .map(|c| {
            let v = json!({
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            });
            (c, v)
        })
        .collect();
    write_json(
        &config.join("inputdataconfig.json"),
        &Value::Object(data_config),
    )?;
    Ok(sandbox)
}

/// The environment of `host`'s script; `ml` is `/opt/ml` as the script sees it (the literal
/// path in a private namespace, the sandbox's otherwise) and `tmp` its `/tmp`.
pub(super) fn environment(
    spec: &JobSpec<'_>,
    host: &str,
    ml: &Path,
    tmp: &Path,
) -> Vec<(String, OsString)> {
    let p = |rel: &str| ml.join(rel).into_os_string();
    let channels = channels(spec);
    let mut env: Vec<(String, OsString)> = channels
        .iter()
        .map(|c| {
            (
                format!("SM_CHANNEL_{}", c.to_ascii_uppercase().replace('-', "_")),
                p(&format!("input/data/{c}")),
            )
        })
        .collect();
    let mut hps = Map::new();
    for (k, v) in spec.hyperparameters {
        hps.insert(k.clone(), hp_value(v));
    }
    for (k, v) in &hps {
        env.push((
            format!("SM_HP_{}", k.to_ascii_uppercase()),
            env_value(v).into(),
        ));
    }
    let mut sorted = channels.clone();
    sorted.sort();
    env.extend([
        ("SM_MODEL_DIR".into(), p("model")),
        ("SM_OUTPUT_DATA_DIR".into(), p("output/data")),
        ("SM_OUTPUT_DIR".into(), p("output")),
        ("SM_INPUT_DIR".into(), p("input")),
        ("SM_INPUT_CONFIG_DIR".into(), p("input/config")),
        ("SM_CHECKPOINT_DIR".into(), p("checkpoints")),
        ("SM_CHANNELS".into(), json!(sorted).to_string().into()),
        ("SM_HPS".into(), Value::Object(hps).to_string().into()),
        ("SM_NUM_GPUS".into(), "0".into()),
        ("SM_CURRENT_HOST".into(), host.into()),
        ("SM_HOSTS".into(), json!(spec.hosts).to_string().into()),
        ("SM_CURRENT_INSTANCE_TYPE".into(), INSTANCE_TYPE.into()),
        ("SM_NETWORK_INTERFACE_NAME".into(), "eth0".into()),
        (
            "SM_RESOURCE_CONFIG".into(),
            resource_config(spec, host).to_string().into(),
        ),
        ("TMPDIR".into(), tmp.as_os_str().to_owned()),
    ]);
    env.extend(instance_env(spec, ml));
    env
}

/// The toolkit's variables that only restate the config files and the machine.
fn instance_env(spec: &JobSpec<'_>, ml: &Path) -> Vec<(String, OsString)> {
    let group = resource_config(spec, "")["instance_groups"][0].clone();
    let data_config: Map<String, Value> = channels(spec)
        .into_iter()
        .map(|c| {
            let v = json!({"RecordWrapperType": "None", "S3DistributionType": "FullyReplicated", "TrainingInputMode": "File"});
            (c, v)
        })
        .collect();
    // What Python's os.cpu_count() says: the CPUs online.
    // SAFETY: sysconf takes a constant and touches no memory.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1);
    let s = |k: &str, v: String| (k.to_owned(), OsString::from(v));
    vec![
        s("SM_CURRENT_INSTANCE_GROUP", "homogeneousCluster".into()),
        s(
            "SM_CURRENT_INSTANCE_GROUP_HOSTS",
            json!(spec.hosts).to_string(),
        ),
        s("SM_INSTANCE_GROUPS", r#"["homogeneousCluster"]"#.into()),
        s(
            "SM_INSTANCE_GROUPS_DICT",
            json!({ "homogeneousCluster": group }).to_string(),
        ),
        s("SM_DISTRIBUTION_INSTANCE_GROUPS", "[]".into()),
        s("SM_IS_HETERO", "false".into()),
        s(
            "SM_INPUT_DATA_CONFIG",
            Value::Object(data_config).to_string(),
        ),
        s(
            "SM_OUTPUT_INTERMEDIATE_DIR",
            ml.join("output/intermediate").display().to_string(),
        ),
        s("SM_NUM_CPUS", cpus.to_string()),
        s("SM_NUM_NEURONS", "0".into()),
        s("SM_FRAMEWORK_PARAMS", "{}".into()),
        s("SM_FRAMEWORK_MODULE", String::new()),
        s("SM_LOG_LEVEL", "20".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(hps: &'a [(String, String)]) -> JobSpec<'a> {
        JobSpec {
            inputs: &[],
            source_dir: None,
            hyperparameters: hps,
            framework_params: vec![],
            hosts: vec!["algo-1".into(), "algo-2".into()],
        }
    }

    fn get<'a>(env: &'a [(String, OsString)], k: &str) -> &'a str {
        env.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.to_str())
            .unwrap_or("<unset>")
    }

    #[test]
    fn hyperparameters_reach_the_env_as_the_toolkit_reads_them() {
        let hps = vec![
            ("epochs".to_owned(), "3".to_owned()),
            ("out-name".to_owned(), "weights/final".to_owned()),
            ("lr".to_owned(), "0.1".to_owned()),
        ];
        let env = environment(
            &spec(&hps),
            "algo-2",
            Path::new("/opt/ml"),
            Path::new("/tmp"),
        );
        assert_eq!(get(&env, "SM_HP_EPOCHS"), "3");
        assert_eq!(get(&env, "SM_HP_OUT-NAME"), "weights/final");
        assert_eq!(
            get(&env, "SM_HPS"),
            r#"{"epochs":3,"lr":0.1,"out-name":"weights/final"}"#
        );
        assert_eq!(get(&env, "SM_CURRENT_HOST"), "algo-2");
        assert_eq!(get(&env, "SM_HOSTS"), r#"["algo-1","algo-2"]"#);
        assert_eq!(get(&env, "SM_MODEL_DIR"), "/opt/ml/model");
        assert_eq!(get(&env, "SM_CHANNEL_TRAIN"), "/opt/ml/input/data/train");
    }

    #[test]
    fn the_config_files_are_written_as_the_platform_writes_them() {
        let hps = vec![("epochs".to_owned(), "3".to_owned())];
        let sb = build_host(&spec(&hps), "algo-1").unwrap();
        let cfg = sb.root().join("opt/ml/input/config");
        let read =
            |f: &str| -> Value { serde_json::from_slice(&fs::read(cfg.join(f)).unwrap()).unwrap() };
        assert_eq!(read("hyperparameters.json"), json!({"epochs": "3"}));
        let rc = read("resourceconfig.json");
        assert_eq!(rc["current_host"], "algo-1");
        assert_eq!(rc["hosts"], json!(["algo-1", "algo-2"]));
        assert_eq!(
            rc["instance_groups"][0]["hosts"],
            json!(["algo-1", "algo-2"])
        );
        assert_eq!(
            read("inputdataconfig.json")["train"]["TrainingInputMode"],
            "File"
        );
    }
}
