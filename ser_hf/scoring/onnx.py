"""ONNX Runtime as a backend: export a trained model, quantize it to int8, and run it where torch would run.

The graph takes the model's main input (``input_features (batch, features, frames)`` for the CNN and
Whisper, ``input_values (batch, samples)`` for the wav2vec2 family) with dynamic batch and time axes and
returns ``logits (batch, num_labels)``, ``probabilities (batch, num_labels)`` and ``embeddings (batch, dims)`` (the
pooled clip the classifier reads, which session mode standardizes per speaker). The feature extractor is not
part of the graph: features come from the saved ``preprocessor_config.json`` as for torch.

:class:`OnnxModel` has the small surface :func:`ser_hf.scoring.score_waveform` uses (``main_input_name``,
``config``, ``device``, ``model(**inputs).logits``), so ``load_model(folder, backend="onnx")`` plugs the exported
graph into the one scoring path: the speech gate, the windows and the calibration temperature stay the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from ..models.errors import SerError
from .decision import safe_log
from .model_files import load_torch_model, resolve_model_dir

BACKENDS = ("torch", "onnx", "onnx-int8")
OUTPUTS = ("logits", "probabilities", "embeddings")


class _GraphOutputs(torch.nn.Module):
    def __init__(self, model, input_name: str):
        super().__init__()
        self.model = model
        self.input_name = input_name

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        output = self.model(**{self.input_name: inputs})
        return output.logits, torch.softmax(output.logits, dim=-1), output.embeddings


def example_input(model, seconds: float = 3.0) -> torch.Tensor:
    """A random input of the model's main input kind, ``seconds`` long."""
    if model.main_input_name == "input_values":
        return torch.randn(1, int(16000 * seconds))
    features = getattr(model.config, "num_mel_bins", None) or model.config.backbone_config.get("num_mel_bins", 80)
    return torch.randn(1, int(features), int(100 * seconds))


def export_onnx(model_dir: str | os.PathLike | None, output: str | os.PathLike, opset: int = 17,
                int8: bool = False) -> Path:
    """Export the model in ``model_dir`` (a folder, ``"default"``, ``"compact"``) to ``output``; writes
    ``<output>.json`` with the input name and labels. With ``int8``, ``output`` is then quantized in place
    (dynamic int8 weights, ``onnxruntime.quantization.quantize_dynamic``)."""
    model, _ = load_torch_model(resolve_model_dir(model_dir))
    name = model.main_input_name
    wrapper = _GraphOutputs(model, name).eval()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    time_axis = 1 if name == "input_values" else 2
    try:
        with warnings.catch_warnings():
            # The tracer warns at every Python branch on a shape; the dynamic time axis is checked instead, against
            # PyTorch at several lengths (onnx_parity, and the export's own test).
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(
                wrapper, (example_input(model),), str(output), input_names=[name],
                output_names=list(OUTPUTS), opset_version=opset, dynamo=False,
                dynamic_axes={name: {0: "batch", time_axis: "time"}, **{output: {0: "batch"} for output in OUTPUTS}},
            )
    except Exception as err:  # the exporter's own errors are many and unrelated to each other
        raise SerError(f"ONNX export of {model_dir} failed ({type(err).__name__}: {str(err).splitlines()[0]}).") from None
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if int8:
        quantize_int8(output, output)
    Path(str(output) + ".json").write_text(json.dumps({"input_name": name, "labels": labels, "int8": int8}, indent=2))
    return output


# Only the feed-forward MatMuls (a constant, non-square weight: d x 4d and 4d x d, two thirds of a transformer
# layer's weights), one scale per output channel. ONNX Runtime's ConvInteger has no fast CPU kernel (a quantized
# CNN ran 6x slower than float32), and quantizing the square attention projections as well cost the default model
# 1.6 points of UA on TESS for a few more percent of speed.
INT8_SETTINGS = {"op_types_to_quantize": ["MatMul"], "per_channel": True, "extra_options": {"MatMulConstBOnly": True}}
# The rule for the nodes left in float32 (see :func:`_square_weight_matmuls`); part of the cache key with the settings.
INT8_EXCLUDED = "MatMul nodes with a square constant weight"


def _square_weight_matmuls(path: Path) -> list[str]:
    """Names of the MatMul nodes of a graph whose constant weight is square (attention projections)."""
    import onnx

    graph = onnx.load(str(path)).graph
    shapes = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul" and len(node.input) > 1
            and len(shapes.get(node.input[1], [])) == 2 and len(set(shapes[node.input[1]])) == 1]


def quantize_int8(source: str | os.PathLike, output: str | os.PathLike) -> Path:
    """Dynamic int8 quantization of the feed-forward MatMul weights of ``source`` (an exported graph) into
    ``output`` (:data:`INT8_SETTINGS`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = Path(str(output) + ".prep.onnx")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(str(prepared), str(output), weight_type=QuantType.QInt8,
                         nodes_to_exclude=_square_weight_matmuls(prepared), **INT8_SETTINGS)
    finally:
        prepared.unlink(missing_ok=True)
    return Path(output)


def cached_onnx(model_dir: str | os.PathLike | None, int8: bool = False) -> Path:
    """The exported graph of a model folder, written once to ``~/.cache/ser_hf/onnx/`` (keyed by the folder's
    weights and configs, so retraining exports again) and reused; ``model.onnx`` inside the folder wins."""
    folder = resolve_model_dir(model_dir)
    name = "model.int8.onnx" if int8 else "model.onnx"
    if (folder / name).is_file():
        return folder / name
    digest = hashlib.sha256(json.dumps([INT8_SETTINGS, INT8_EXCLUDED]).encode() if int8 else b"")
    digest.update(json.dumps(OUTPUTS).encode())  # a graph cached before an output was added is exported again
    for part in ("config.json", "preprocessor_config.json", "model.safetensors"):
        path = folder / part
        if path.is_file():
            digest.update(f"{part}:{path.stat().st_size}:{path.stat().st_mtime_ns}".encode())
    cache = Path(os.environ.get("SER_HF_CACHE", Path.home() / ".cache" / "ser_hf")) / "onnx" / digest.hexdigest()[:16]
    target = cache / name
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f"partial-{os.getpid()}-{name}"  # written aside, then renamed: no half file is ever read
        export_onnx(folder, partial, int8=int8)
        os.replace(partial, target)
        os.replace(str(partial) + ".json", str(target) + ".json")
    return target


class OnnxModel:
    """An exported graph behind the interface of a transformers model that the scoring path uses.

    Args:
        path: the ``.onnx`` file (:func:`export_onnx`).
        config: the model's ``PretrainedConfig`` (labels, calibration temperature, adaptation priors).
        threads: ONNX Runtime's intra-op threads (``0``: its default, one per core).
    """

    device = torch.device("cpu")

    def __init__(self, path: str | os.PathLike, config, threads: int | None = 1):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(threads or 0)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = Path(path)
        self.config = config
        self.main_input_name = self.session.get_inputs()[0].name
        self.takes_attention_mask = False  # the graph takes the features alone: padding would change its answer
        self.outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, **inputs) -> SimpleNamespace:
        x = inputs[self.main_input_name]
        x = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        feed = {self.main_input_name: x.astype(np.float32)}
        if "logits" not in self.outputs:  # a graph exported before logits were an output: log-probabilities differ
            logits = safe_log(self.session.run(None, feed)[0]).astype(np.float32)  # from logits by a constant
            return SimpleNamespace(logits=torch.from_numpy(logits), embeddings=None)
        names = ["logits"] + (["embeddings"] if "embeddings" in self.outputs else [])  # older graphs have none
        outputs = dict(zip(names, self.session.run(names, feed)))
        embeddings = outputs.get("embeddings")
        return SimpleNamespace(logits=torch.from_numpy(outputs["logits"]),
                               embeddings=None if embeddings is None else torch.from_numpy(embeddings))

    def eval(self) -> "OnnxModel":
        return self

    def to(self, device) -> "OnnxModel":
        if str(device) != "cpu":
            raise SerError("The ONNX backend runs on the CPU; use backend='torch' for a GPU.")
        return self


def onnx_parity(model_dir: str | os.PathLike | None, onnx_path: str | os.PathLike,
                seconds: tuple[float, ...] = (1.0, 3.0, 7.5)) -> float:
    """Largest absolute difference between PyTorch's and onnxruntime's probabilities over clips of ``seconds``."""
    model, _ = load_torch_model(resolve_model_dir(model_dir))
    wrapper = _GraphOutputs(model, model.main_input_name).eval()
    session = OnnxModel(onnx_path, model.config, threads=0).session
    worst = 0.0
    torch.manual_seed(0)
    for length in seconds:
        x = example_input(model, length)
        with torch.no_grad():
            expected = wrapper(x)[1].numpy()
        got = session.run(["probabilities"], {model.main_input_name: x.numpy()})[0]
        worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst
