"""Writes small model files with the real libraries, for tests/model_files.rs.

Usage: make_models.py OUT_DIR. Every case is a model dir `OUT_DIR/<group>/<case>/`:
`intact` cases must give no integrity finding, `malicious` ones an `unsafe-pickle`. Then
`OUT_DIR/manifest.json` lists, per case, the model files (the ones cut in the test) and, for
zips, the byte range of each entry's data and of each central directory name (the bytes
flipped), and `OUT_DIR/picklescan.json` has the real picklescan's verdict on every file.

Without torch (too large for CI), a `torch.save` zip is written with Python's `zipfile`:
`archive/data.pkl` (a pickle importing `torch._utils._rebuild_tensor_v2`, the storage class
through a persistent id, as torch's pickler does), `archive/data/0` (the raw storage),
`archive/version` and `archive/byteorder`, all stored. That is torch's layout; torch also pads
each local header's extra field to 64-byte alignment, which the checks here do not depend on.
The legacy (non-zip) `torch.save` is five pickles then raw storage bytes, written the same way.
"""

import collections
import json
import os
import pickle
import struct
import subprocess
import sys
import types
import zipfile

import h5py
import joblib
import numpy as np
import onnx
import onnx.external_data_helper
import onnx.helper as oh
import safetensors.numpy
import xgboost
from picklescan.scanner import scan_file_path
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

OUT = sys.argv[1]
rng = np.random.default_rng(7)
cases = {}


def case(group, name):
    d = os.path.join(OUT, group, name)
    os.makedirs(d, exist_ok=True)
    cases[f"{group}/{name}"] = {"dir": f"{group}/{name}", "files": []}
    return d


def model_file(group, name, rel):
    cases[f"{group}/{name}"]["files"].append(rel)


# Fake `torch` modules so that pickles import torch's globals without torch installed.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*a):
    return None


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Tensor:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel

    def __reduce__(self):
        return (_rebuild_tensor_v2, (StorageRef(self.key, self.numel), 0, (self.numel,), (1,), False, collections.OrderedDict()))


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj, protocol=2):
    import io
    b = io.BytesIO()
    TorchPickler(b, protocol=protocol).dump(obj)
    return b.getvalue()


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


class Custom:
    """A class outside every safe list (a user's own model class)."""

    def __init__(self):
        self.w = [1.0, 2.0]


Custom.__module__ = "mytraining.model"
sys.modules["mytraining"] = types.ModuleType("mytraining")
sys.modules["mytraining.model"] = types.ModuleType("mytraining.model")
sys.modules["mytraining.model"].Custom = Custom


def torch_zip(path, state, storages, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("archive/data.pkl", torch_pickle(state))
        z.writestr("archive/byteorder", "little")
        for key, arr in storages.items():
            z.writestr(f"archive/data/{key}", arr.tobytes())
        z.writestr("archive/version", "3\n")
        z.writestr("archive/.data/serialization_id", "1234567890")


# safetensors
d = case("intact", "safetensors")
tensors = {
    "embed.weight": rng.standard_normal((64, 32)).astype(np.float32),
    "embed.bias": rng.standard_normal(32).astype(np.float16),
    "steps": np.arange(10, dtype=np.int64),
    "mask": np.array([True, False, True]),
    "bytes": np.arange(7, dtype=np.uint8),
}
safetensors.numpy.save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "np"})
model_file("intact", "safetensors", "model.safetensors")
big = {f"layer.{i}.weight": rng.standard_normal((128, 128)).astype(np.float32) for i in range(16)}
safetensors.numpy.save_file(big, os.path.join(d, "big.safetensors"))
model_file("intact", "safetensors", "big.safetensors")

# sharded safetensors, as transformers' save_pretrained writes it
d = case("intact", "sharded-safetensors")
shards = {"model-00001-of-00002.safetensors": dict(list(big.items())[:8]),
          "model-00002-of-00002.safetensors": dict(list(big.items())[8:])}
weight_map = {}
for shard, ts in shards.items():
    safetensors.numpy.save_file(ts, os.path.join(d, shard), metadata={"format": "pt"})
    model_file("intact", "sharded-safetensors", shard)
    weight_map.update({k: shard for k in ts})
with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": sum(a.nbytes for a in big.values())}, "weight_map": weight_map}, f, indent=2)
model_file("intact", "sharded-safetensors", "model.safetensors.index.json")

# pickles of scikit-learn models, every protocol
X = rng.standard_normal((40, 4))
y = (X[:, 0] > 0).astype(int)
lr = LogisticRegression().fit(X, y)
tree = DecisionTreeClassifier(max_depth=3).fit(X, y)
d = case("intact", "sklearn-pickle")
for proto in range(0, 6):
    with open(os.path.join(d, f"logreg-p{proto}.pkl"), "wb") as f:
        pickle.dump(lr, f, protocol=proto)
    model_file("intact", "sklearn-pickle", f"logreg-p{proto}.pkl")
with open(os.path.join(d, "tree.pkl"), "wb") as f:
    pickle.dump(tree, f, protocol=4)
model_file("intact", "sklearn-pickle", "tree.pkl")
with open(os.path.join(d, "arrays.pkl"), "wb") as f:
    pickle.dump({"a": rng.standard_normal((50, 50)), "b": np.arange(5)}, f, protocol=2)
model_file("intact", "sklearn-pickle", "arrays.pkl")

# joblib (uncompressed: arrays' bytes inline in the pickle stream)
d = case("intact", "joblib")
joblib.dump(lr, os.path.join(d, "model.joblib"))
model_file("intact", "joblib", "model.joblib")

# torch.save zip (layout by zipfile, see the module doc) and legacy torch.save
d = case("intact", "torch-zip")
w = rng.standard_normal(100).astype(np.float32)
state = collections.OrderedDict([("fc.weight", Tensor("0", 100)), ("fc.bias", Tensor("1", 4))])
torch_zip(os.path.join(d, "model.pth"), state, {"0": w, "1": w[:4]})
model_file("intact", "torch-zip", "model.pth")
torch_zip(os.path.join(d, "deflated.pt"), state, {"0": w, "1": w[:4]}, zipfile.ZIP_DEFLATED)
model_file("intact", "torch-zip", "deflated.pt")

d = case("intact", "torch-legacy")
with open(os.path.join(d, "model.pt"), "wb") as f:
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
    f.write(torch_pickle(state))
    pickle.dump(["0", "1"], f, protocol=2)
    for arr in (w, w[:4]):
        f.write(struct.pack("<q", arr.size))
        f.write(arr.tobytes())
model_file("intact", "torch-legacy", "model.pt")

# HDF5 (Keras .h5), both superblock versions
d = case("intact", "hdf5")
for name, libver in (("model.h5", "earliest"), ("latest.h5", "latest")):
    with h5py.File(os.path.join(d, name), "w", libver=libver) as f:
        g = f.create_group("model_weights/dense")
        g.create_dataset("kernel", data=rng.standard_normal((32, 16)))
        g.create_dataset("bias", data=np.zeros(16))
        f.attrs["keras_version"] = "3.0.0"
    model_file("intact", "hdf5", name)

# .keras: a zip of config.json, metadata.json and model.weights.h5 (deflated), as Keras 3 writes
d = case("intact", "keras")
h5 = os.path.join(OUT, "weights.h5")
with h5py.File(h5, "w") as f:
    f.create_dataset("dense/vars/0", data=rng.standard_normal((8, 8)))
with zipfile.ZipFile(os.path.join(d, "model.keras"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
    z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
    z.write(h5, "model.weights.h5")
os.remove(h5)
model_file("intact", "keras", "model.keras")

# ONNX, inline and with external data
def onnx_model():
    wt = oh.make_tensor("W", onnx.TensorProto.FLOAT, [64, 64], rng.standard_normal(64 * 64).astype(np.float32).tobytes(), raw=True)
    node = oh.make_node("MatMul", ["X", "W"], ["Y"])
    g = oh.make_graph([node], "g", [oh.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [1, 64])],
                      [oh.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, [1, 64])], [wt])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])

d = case("intact", "onnx")
onnx.save_model(onnx_model(), os.path.join(d, "model.onnx"))
model_file("intact", "onnx", "model.onnx")
d = case("intact", "onnx-external")
m = onnx_model()
onnx.external_data_helper.convert_model_to_external_data(
    m, all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
onnx.save_model(m, os.path.join(d, "model.onnx"))
model_file("intact", "onnx-external", "model.onnx")
model_file("intact", "onnx-external", "model.onnx.data")
onnx.load(os.path.join(d, "model.onnx"))

# XGBoost JSON
d = case("intact", "xgboost")
booster = xgboost.train({"max_depth": 2, "objective": "binary:logistic"}, xgboost.DMatrix(X, label=y), num_boost_round=3)
booster.save_model(os.path.join(d, "xgboost-model.json"))
os.rename(os.path.join(d, "xgboost-model.json"), os.path.join(d, "xgboost-model"))
model_file("intact", "xgboost", "xgboost-model")

# XGBoost UBJSON (the binary format `save_model` writes for a `.ubj` name)
d = case("intact", "xgboost-ubj")
booster.save_model(os.path.join(d, "model.ubj"))
model_file("intact", "xgboost-ubj", "model.ubj")

# Malicious pickles
evil = [("os-system", os.system, "echo pwned"), ("eval", eval, "1+1"), ("subprocess", subprocess.check_output, ["id"]),
        ("exec", exec, "x=1")]
d = case("malicious", "pickles")
for name, fn, arg in evil:
    for proto in (0, 2, 4):
        with open(os.path.join(d, f"{name}-p{proto}.pkl"), "wb") as f:
            pickle.dump(Evil(fn, arg), f, protocol=proto)
        model_file("malicious", "pickles", f"{name}-p{proto}.pkl")
d = case("malicious", "torch-zip")
torch_zip(os.path.join(d, "model.pth"), collections.OrderedDict([("w", Tensor("0", 4)), ("x", Evil(os.system, "echo pwned"))]), {"0": w[:4]})
model_file("malicious", "torch-zip", "model.pth")
d = case("malicious", "joblib")
joblib.dump({"model": lr, "hook": Evil(os.system, "echo pwned")}, os.path.join(d, "model.joblib"))
model_file("malicious", "joblib", "model.joblib")
d = case("unknown", "custom-class")
with open(os.path.join(d, "model.pkl"), "wb") as f:
    pickle.dump(Custom(), f, protocol=4)
model_file("unknown", "custom-class", "model.pkl")

# Zip entry data ranges and central directory names, for the flip test.
for c in cases.values():
    c["zip"] = {}
    for rel in c["files"]:
        p = os.path.join(OUT, c["dir"], rel)
        if not zipfile.is_zipfile(p):
            continue
        spans = []
        with open(p, "rb") as f:
            raw = f.read()
        with zipfile.ZipFile(p) as z:
            for info in z.infolist():
                o = info.header_offset
                nlen, xlen = struct.unpack("<HH", raw[o + 26:o + 30])
                start = o + 30 + nlen + xlen
                if info.compress_size:
                    spans.append({"what": f"data of {info.filename}", "start": start, "len": info.compress_size})
                spans.append({"what": f"local name of {info.filename}", "start": o + 30, "len": nlen})
            cd = raw.rfind(b"PK\x01\x02", 0)
            first_cd = raw.find(b"PK\x01\x02")
            spans.append({"what": "central directory name", "start": first_cd + 46, "len": 4})
        c["zip"][rel] = spans

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(sorted(cases.values(), key=lambda c: c["dir"]), f, indent=1)

# The real picklescan on every file.
verdicts = {}
for c in cases.values():
    for rel in c["files"]:
        p = os.path.join(OUT, c["dir"], rel)
        r = scan_file_path(p)
        verdicts[f"{c['dir']}/{rel}"] = {
            "dangerous": sorted(f"{g.module}.{g.name}" for g in r.globals if g.safety.value == "dangerous"),
            "scan_err": bool(r.scan_err),
        }
with open(os.path.join(OUT, "picklescan.json"), "w") as f:
    json.dump(verdicts, f, indent=1, sort_keys=True)
print(f"{sum(len(c['files']) for c in cases.values())} files in {len(cases)} cases")
