"""ONNX export of a trained model: features in, probabilities out, with a dynamic time axis.

The graph takes the model's main input (``input_features (batch, features, frames)`` for the CNN and
Whisper, ``input_values (batch, samples)`` for the wav2vec2 family) for clips of equal length (one clip
at a time for streaming) and returns ``probabilities (batch, num_labels)``. The feature extractor is not
part of the graph: compute features with the saved ``preprocessor_config.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from ..models.errors import SerError


class _Probabilities(torch.nn.Module):
    def __init__(self, model, input_name: str):
        super().__init__()
        self.model = model
        self.input_name = input_name

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(**{self.input_name: inputs}).logits, dim=-1)


def example_input(model, seconds: float = 3.0) -> torch.Tensor:
    """A random input of the model's main input kind, ``seconds`` long."""
    if model.main_input_name == "input_values":
        return torch.randn(1, int(16000 * seconds))
    features = getattr(model.config, "num_mel_bins", None) or model.config.backbone_config.get("num_mel_bins", 80)
    return torch.randn(1, int(features), int(100 * seconds))


def export_onnx(model_dir: str | os.PathLike, output: str | os.PathLike, opset: int = 17) -> Path:
    """Export the model in ``model_dir`` to ``output`` (ONNX); writes ``<output>.json`` with the labels."""
    from .recognizer import EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(model_dir)
    model, name = recognizer.model.eval(), recognizer.input_name
    wrapper = _Probabilities(model, name).eval()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    time_axis = 1 if name == "input_values" else 2
    try:
        torch.onnx.export(
            wrapper, (example_input(model),), str(output), input_names=[name], output_names=["probabilities"],
            dynamic_axes={name: {0: "batch", time_axis: "time"}, "probabilities": {0: "batch"}},
            opset_version=opset, dynamo=False,
        )
    except Exception as err:  # the exporter's own errors are many and unrelated to each other
        raise SerError(f"ONNX export of {model_dir} failed ({type(err).__name__}: {str(err).splitlines()[0]}).") from None
    Path(str(output) + ".json").write_text(json.dumps({"input_name": name, "labels": recognizer.labels}, indent=2))
    return output


def onnx_parity(model_dir: str | os.PathLike, onnx_path: str | os.PathLike, seconds: tuple[float, ...] = (1.0, 3.0, 7.5)) -> float:
    """Largest absolute difference between PyTorch's and onnxruntime's probabilities over clips of ``seconds``."""
    import onnxruntime

    from .recognizer import EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(model_dir)
    wrapper = _Probabilities(recognizer.model.eval(), recognizer.input_name).eval()
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    torch.manual_seed(0)
    for length in seconds:
        x = example_input(recognizer.model, length)
        with torch.no_grad():
            expected = wrapper(x).numpy()
        got = session.run(None, {recognizer.input_name: x.numpy()})[0]
        worst = max(worst, float(np.max(np.abs(got - expected))))
    return worst
