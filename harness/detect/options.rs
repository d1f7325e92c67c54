//! What the detector is asked to look at ([`JobDirs`]) and how ([`DetectOptions`],
//! [`Framework`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::layout::{Root, Sandbox};
use crate::target::Target;

/// The serving framework, for framework-specific rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// PyTorch / TorchServe.
    #[value(alias = "torch")]
    Pytorch,
    /// TensorFlow Serving.
    #[value(alias = "tf")]
    Tensorflow,
    /// Hugging Face inference toolkit.
    #[value(alias = "hf")]
    Huggingface,
    /// XGBoost container.
    Xgboost,
    /// scikit-learn container.
    #[value(alias = "scikit-learn")]
    Sklearn,
}

impl std::str::FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pytorch" | "torch" => Ok(Framework::Pytorch),
            "tensorflow" | "tf" => Ok(Framework::Tensorflow),
            "huggingface" | "hf" => Ok(Framework::Huggingface),
            "xgboost" => Ok(Framework::Xgboost),
            "sklearn" | "scikit-learn" => Ok(Framework::Sklearn),
            other => Err(format!(
                "unknown framework `{other}`; valid values: pytorch, tensorflow, huggingface, xgboost, sklearn"
            )),
        }
    }
}

/// Detector settings.
#[derive(Clone, Debug, Default)]
pub struct DetectOptions {
    /// Force framework-specific rules on (they are also on when the content shows the framework).
    pub framework: Option<Framework>,
    /// The deploy target whose consumer unpacks the archive; it decides the
    /// target-dependent codes (`link-in-archive`, `symlink-in-model-dir`,
    /// `unreadable-by-server`). Default: SageMaker.
    pub target: Target,
}

/// The directories of a finished job. Only `model_dir` is required.
#[derive(Clone, Debug, Default)]
pub struct JobDirs {
    /// `SM_MODEL_DIR`.
    pub model_dir: PathBuf,
    /// The job's working directory.
    pub cwd: Option<PathBuf>,
    /// `SM_OUTPUT_DATA_DIR`.
    pub output_data_dir: Option<PathBuf>,
    /// The checkpoint dir (never "outside": checkpoints are synced separately).
    pub checkpoints: Option<PathBuf>,
    /// A `/tmp`-like scratch dir.
    pub tmp: Option<PathBuf>,
}

impl JobDirs {
    /// The dirs of a packtest sandbox.
    pub fn from_sandbox(sb: &Sandbox) -> Self {
        Self::from_root(sb.root())
    }

    /// The dirs under a sandbox root or a real `/opt/ml`-style root (`ROOT/opt/ml/…` or
    /// `ROOT/…` when `ROOT` itself is the `ml` dir).
    pub fn from_root(root: &Path) -> Self {
        let ml = if root.join("opt/ml").is_dir() {
            root.join("opt/ml")
        } else {
            root.to_owned()
        };
        let some = |p: PathBuf| p.is_dir().then_some(p);
        JobDirs {
            model_dir: ml.join("model"),
            cwd: some(ml.join("code")),
            output_data_dir: some(ml.join("output/data")),
            checkpoints: some(ml.join("checkpoints")),
            tmp: some(root.join(Root::Tmp.rel_dir())),
        }
    }
}
