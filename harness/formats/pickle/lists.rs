//! Which imports are safe to load: a deny list (picklescan 1.0.5's, copied so that the two
//! scanners agree on what is dangerous), then a safe list of what the model libraries'
//! own pickles import, then everything else is unknown.

use super::ImportVerdict;

/// Classifies one global: dangerous (deny list), safe (safe list), or unknown.
pub fn classify_import(module: &str, name: &str) -> ImportVerdict {
    let denied_module = DENY_MODULES
        .iter()
        .any(|d| module == *d || module.strip_prefix(d).is_some_and(|r| r.starts_with('.')));
    if denied_module || DENY_NAMES.contains(&(module, name)) || EXTRA_DENY.contains(&(module, name))
    {
        return ImportVerdict::Dangerous;
    }
    let safe_tree = SAFE_TREES
        .iter()
        .any(|d| module == *d || module.strip_prefix(d).is_some_and(|r| r.starts_with('.')));
    let torch_storage =
        module == "torch" && (name.ends_with("Storage") || TORCH_NAMES.contains(&name));
    if safe_tree || torch_storage || SAFE_NAMES.contains(&(module, name)) {
        return ImportVerdict::Safe;
    }
    ImportVerdict::Unknown
}

/// Dangerous globals picklescan's list leaves out: `numpy.load` (loads a further pickle),
/// `numpy.ctypeslib` (loads a shared library).
const EXTRA_DENY: &[(&str, &str)] = &[
    ("numpy", "load"),
    ("numpy.ctypeslib", "load_library"),
    ("builtins", "__import__"),
    ("__builtin__", "__import__"),
];

/// Module trees whose globals a model library's pickle imports and that run no code given
/// by the pickle: scikit-learn estimators, XGBoost and LightGBM boosters, scipy sparse
/// matrices, numpy arrays, dtypes and random generators (after the deny list, which takes
/// `numpy.f2py` and `numpy.testing`), PyTorch's tensor rebuilders, joblib's array wrappers.
const SAFE_TREES: &[&str] = &[
    "sklearn",
    "xgboost",
    "lightgbm",
    "scipy.sparse",
    "numpy.core.multiarray",
    "numpy._core.multiarray",
    "numpy.core.numeric",
    "numpy._core.numeric",
    "numpy.random",
    "torch._utils",
    "torch._tensor",
    "joblib.numpy_pickle",
];

/// `torch` globals a `data.pkl` imports besides the `*Storage` classes.
const TORCH_NAMES: &[&str] = &["Size", "device", "dtype", "float32", "float16", "bfloat16"];

/// Single safe globals.
const SAFE_NAMES: &[(&str, &str)] = &[
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "Counter"),
    ("collections", "deque"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy", "float64"),
    ("numpy", "float32"),
    ("numpy", "int64"),
    ("numpy", "int32"),
    ("numpy.dtypes", "Float64DType"),
    ("numpy.dtypes", "Float32DType"),
    ("numpy.dtypes", "Int64DType"),
    ("numpy.dtypes", "Int32DType"),
    ("numpy.dtypes", "BoolDType"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("_codecs", "encode"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "range"),
    ("builtins", "complex"),
    ("builtins", "bytearray"),
    ("builtins", "object"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("__builtin__", "set"),
    ("__builtin__", "frozenset"),
    ("__builtin__", "object"),
    ("__builtin__", "slice"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "timedelta"),
];

/// Modules whose every global is dangerous (picklescan 1.0.5's `*` entries); their
/// submodules too.
const DENY_MODULES: &[&str] = &[
    "_aix_support",
    "_osx_support",
    "_pickle",
    "_pyrepl",
    "aiohttp",
    "asyncio",
    "bdb",
    "cProfile",
    "commands",
    "ctypes",
    "distutils.file_util",
    "httplib",
    "nt",
    "numpy.f2py",
    "numpy.testing._private.utils",
    "os",
    "pdb",
    "pickle",
    "pip",
    "posix",
    "profile",
    "pty",
    "pydoc",
    "requests.api",
    "runpy",
    "shutil",
    "socket",
    "ssl",
    "subprocess",
    "sys",
    "test",
    "timeit",
    "urllib.request",
    "uuid",
    "venv",
    "webbrowser",
];

/// Single dangerous globals (picklescan 1.0.5's named entries), as (module, name).
const DENY_NAMES: &[(&str, &str)] = &[
    ("__builtin__", "apply"),
    ("__builtin__", "breakpoint"),
    ("__builtin__", "compile"),
    ("__builtin__", "eval"),
    ("__builtin__", "exec"),
    ("__builtin__", "getattr"),
    ("__builtin__", "open"),
    ("_io", "FileIO"),
    ("_operator", "attrgetter"),
    ("_operator", "itemgetter"),
    ("_operator", "methodcaller"),
    ("builtins", "apply"),
    ("builtins", "breakpoint"),
    ("builtins", "compile"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "getattr"),
    ("builtins", "open"),
    ("cloudpickle.cloudpickle", "_builtin_type"),
    ("cloudpickle.cloudpickle", "_function_setstate"),
    ("cloudpickle.cloudpickle", "_make_cell"),
    ("cloudpickle.cloudpickle", "_make_empty_cell"),
    ("cloudpickle.cloudpickle", "_make_function"),
    ("cloudpickle.cloudpickle", "subimport"),
    ("code", "InteractiveInterpreter.runcode"),
    ("doctest", "debug_script"),
    ("ensurepip", "_run_pip"),
    ("functools", "partial"),
    ("idlelib.autocomplete", "AutoComplete.fetch_completions"),
    ("idlelib.autocomplete", "AutoComplete.get_entity"),
    ("idlelib.calltip", "Calltip.fetch_tip"),
    ("idlelib.calltip", "get_entity"),
    ("idlelib.debugobj", "ObjectTreeItem.SetText"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcommand"),
    ("idlelib.run", "Executive.runcode"),
    ("imaplib", "IMAP4_stream"),
    ("lib2to3.pgen2.grammar", "Grammar.loads"),
    ("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
    ("logging", "FileHandler"),
    ("operator", "attrgetter"),
    ("operator", "itemgetter"),
    ("operator", "methodcaller"),
    ("pkgutil", "resolve_name"),
    ("torch._dynamo.guards", "GuardBuilder.get"),
    ("torch._inductor.codecache", "compile_file"),
    (
        "torch.fx.experimental.symbolic_shapes",
        "ShapeEnv.evaluate_guards_expression",
    ),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),
    ("torch.serialization", "load"),
    ("torch.utils._config_module", "ConfigModule.load_config"),
    ("torch.utils.bottleneck.__main__", "run_autograd_prof"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"),
    ("torch.utils.collect_env", "run"),
    ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
    ("trace", "Trace.run"),
    ("trace", "Trace.runctx"),
    ("types", "CodeType"),
];
