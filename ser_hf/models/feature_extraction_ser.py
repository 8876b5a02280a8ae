"""``SerFeatureExtractor``: raw 16 kHz speech -> log-mel, MFCC or log-spectrogram features.

A ``transformers`` ``SequenceFeatureExtractor``: saved as ``preprocessor_config.json`` and reloaded by
``AutoFeatureExtractor.from_pretrained`` once ``ser_hf`` is imported (or by remote code). Each
utterance goes through :func:`ser_hf.models.preprocessing.preprocess` and is featurized at its own length,
so an utterance's features never depend on what it is batched with; padding is added afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import BatchFeature, SequenceFeatureExtractor
from transformers.audio_utils import mel_filter_bank

from .audio import MAX_CHANNELS, channel_axis, check_waveform
from .errors import SerAudioError
from .preprocessing import NORMALIZATIONS, preprocess

FEATURE_TYPES = ("log-mel", "mfcc", "spectrogram")


class SerFeatureExtractor(SequenceFeatureExtractor):
    r"""Feature extractor for speech emotion recognition.

    Args:
        feature_type (`str`, defaults to `"log-mel"`): `"log-mel"`, `"mfcc"` (DCT of the log-mel, with
            optional deltas) or `"spectrogram"` (log power STFT, `n_fft // 2 + 1` bins).
        sampling_rate (`int`, defaults to 16000): the rate the input must have, in Hz.
        num_mel_bins (`int`, defaults to 64): mel bands; 64 resolve the first formants and the pitch
            harmonics that carry emotion, at a fraction of the cost of 128.
        n_mfcc (`int`, defaults to 40): cepstral coefficients kept for `"mfcc"`.
        mfcc_deltas (`int`, defaults to 0): 0, 1 (add deltas) or 2 (add deltas and delta-deltas).
        win_length_ms (`float`, defaults to 25.0) / hop_length_ms (`float`, defaults to 10.0): analysis
            window and step; the speech-processing standard (quasi-stationary within 25 ms, 100 frames a second).
        n_fft (`int`, defaults to 512): FFT size (the 400-sample window zero-padded to a power of two).
        f_min (`float`, defaults to 20.0) / f_max (`float`, defaults to 8000.0): mel range; 8 kHz is Nyquist at 16 kHz.
        log_floor (`float`, defaults to 1e-6): added to the power before the log so silence stays finite.
        normalize_per_utterance (`bool`, defaults to `True`): mean/variance normalization of each feature over
            the utterance's valid frames (removes channel and level differences between corpora).
        remove_dc_offset, normalization, target_db, trim, trim_top_db, noise_reduction,
        pre_emphasis_coefficient: the preprocessing steps of :func:`ser_hf.models.preprocessing.preprocess`.
            Defaults: DC removal on, peak normalization to -1 dBFS, trimming of edges 40 dB below the peak,
            no noise reduction, no pre-emphasis.
        padding_value (`float`, defaults to 0.0): value of padded frames (the mean after normalization).
        return_attention_mask (`bool`, defaults to `True`).

    Returns from `__call__` a `BatchFeature` with `input_features` of shape `(batch, n_features, frames)`
    and `attention_mask` of shape `(batch, frames)` (1 for real frames).
    """

    model_input_names = ["input_features", "attention_mask"]

    def __init__(
        self,
        feature_type: str = "log-mel",
        sampling_rate: int = 16000,
        num_mel_bins: int = 64,
        n_mfcc: int = 40,
        mfcc_deltas: int = 0,
        win_length_ms: float = 25.0,
        hop_length_ms: float = 10.0,
        n_fft: int = 512,
        f_min: float = 20.0,
        f_max: float = 8000.0,
        log_floor: float = 1e-6,
        normalize_per_utterance: bool = True,
        remove_dc_offset: bool = True,
        normalization: str | None = "peak",
        target_db: float | None = None,
        trim: bool = True,
        trim_top_db: float = 40.0,
        noise_reduction: bool = False,
        pre_emphasis_coefficient: float = 0.0,
        padding_value: float = 0.0,
        return_attention_mask: bool = True,
        **kwargs,
    ):
        if feature_type not in FEATURE_TYPES:
            raise ValueError(f"Unknown feature_type {feature_type!r}; expected one of {', '.join(FEATURE_TYPES)}.")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {normalization!r}; expected 'peak', 'rms', 'loudness' or None.")
        if mfcc_deltas not in (0, 1, 2):
            raise ValueError(f"mfcc_deltas must be 0, 1 or 2, got {mfcc_deltas}.")
        self.feature_type = feature_type
        self.num_mel_bins = num_mel_bins
        self.n_mfcc = n_mfcc
        self.mfcc_deltas = mfcc_deltas
        self.win_length_ms = win_length_ms
        self.hop_length_ms = hop_length_ms
        self.n_fft = n_fft
        self.f_min = f_min
        self.f_max = f_max
        self.log_floor = log_floor
        self.normalize_per_utterance = normalize_per_utterance
        self.remove_dc_offset = remove_dc_offset
        self.normalization = normalization
        self.target_db = target_db
        self.trim = trim
        self.trim_top_db = trim_top_db
        self.noise_reduction = noise_reduction
        self.pre_emphasis_coefficient = pre_emphasis_coefficient
        kwargs.pop("feature_size", None)  # derived from feature_type and its sizes, saved for readers
        super().__init__(
            feature_size=self._feature_size(),
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.win_length = int(round(win_length_ms * sampling_rate / 1000))
        self.hop_length = int(round(hop_length_ms * sampling_rate / 1000))
        if self.win_length > n_fft:
            raise ValueError(f"The window ({self.win_length} samples) is longer than n_fft={n_fft}.")
        self.mel_filters = mel_filter_bank(
            num_frequency_bins=n_fft // 2 + 1,
            num_mel_filters=num_mel_bins,
            min_frequency=f_min,
            max_frequency=f_max,
            sampling_rate=sampling_rate,
            norm="slaney",
            mel_scale="slaney",
        ).astype(np.float32)  # (n_fft // 2 + 1, num_mel_bins)
        self.window = torch.hann_window(self.win_length, periodic=True)

    def _feature_size(self) -> int:
        if self.feature_type == "log-mel":
            return self.num_mel_bins
        if self.feature_type == "mfcc":
            return self.n_mfcc * (1 + self.mfcc_deltas)
        return self.n_fft // 2 + 1

    def to_dict(self) -> dict[str, Any]:
        output = super().to_dict()
        for derived in ("mel_filters", "window", "win_length", "hop_length"):
            output.pop(derived, None)
        return output

    # --- signal processing --------------------------------------------------------------------------

    def num_frames(self, num_samples: int) -> int:
        """Frames produced for ``num_samples`` of (preprocessed) audio: centred frames every hop."""
        return 1 + num_samples // self.hop_length

    def preprocess(self, waveform: np.ndarray) -> np.ndarray:
        """Apply the configured preprocessing chain to one mono waveform ``(samples,)``."""
        return preprocess(
            waveform,
            self.sampling_rate,
            remove_dc_offset=self.remove_dc_offset,
            normalization=self.normalization,
            target_db=self.target_db,
            trim=self.trim,
            trim_top_db=self.trim_top_db,
            noise_reduction=self.noise_reduction,
            pre_emphasis_coefficient=self.pre_emphasis_coefficient,
        )

    def extract(self, waveform: np.ndarray) -> np.ndarray:
        """Features of one preprocessed waveform: ``(n_features, frames)`` float32, not normalized."""
        x = torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))
        if len(x) <= self.n_fft // 2:  # reflect padding needs more samples than half a window
            x = torch.nn.functional.pad(x, (0, self.n_fft // 2 + 1 - len(x)))
        with torch.no_grad():
            spec = torch.stft(
                x,
                self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            )
            power = spec.real.square() + spec.imag.square()  # (n_fft // 2 + 1, frames)
            power = power[:, : self.num_frames(len(waveform))]
            if self.feature_type == "spectrogram":
                return torch.log(power + self.log_floor).numpy()
            mel = torch.from_numpy(self.mel_filters).T @ power  # (num_mel_bins, frames)
            log_mel = torch.log(mel + self.log_floor).numpy()
        if self.feature_type == "log-mel":
            return log_mel
        return self._mfcc(log_mel)

    def _mfcc(self, log_mel: np.ndarray) -> np.ndarray:
        from scipy.fft import dct

        mfcc = dct(log_mel, type=2, axis=0, norm="ortho")[: self.n_mfcc].astype(np.float32)
        parts = [mfcc]
        if self.mfcc_deltas:
            import librosa

            width = min(9, mfcc.shape[1] if mfcc.shape[1] % 2 else mfcc.shape[1] - 1)
            if width >= 3:
                parts.append(librosa.feature.delta(mfcc, width=width, order=1, mode="nearest"))
                if self.mfcc_deltas == 2:
                    parts.append(librosa.feature.delta(mfcc, width=width, order=2, mode="nearest"))
            else:  # too few frames for a regression window: deltas are zero
                parts += [np.zeros_like(mfcc)] * self.mfcc_deltas
        return np.concatenate(parts, axis=0).astype(np.float32)

    @staticmethod
    def _normalize(features: np.ndarray) -> np.ndarray:
        mean = features.mean(axis=1, keepdims=True)
        std = features.std(axis=1, keepdims=True)
        return ((features - mean) / np.maximum(std, 1e-5)).astype(np.float32)

    # --- the transformers interface -----------------------------------------------------------------

    def _as_batch(self, raw_speech: Any) -> list[np.ndarray]:
        if isinstance(raw_speech, np.ndarray):
            if raw_speech.ndim == 1:
                return [raw_speech]
            if raw_speech.ndim == 2 and channel_axis(raw_speech.shape) == 1 and raw_speech.shape[0] > MAX_CHANNELS:
                raise SerAudioError(
                    f"Expected mono audio, got an array of shape {raw_speech.shape} that looks like (samples, "
                    "channels); average the channels first (ser_hf.models.audio.normalize_audio)."
                )
            if raw_speech.ndim > 2:
                raise SerAudioError(
                    f"Expected mono audio: one clip (samples,) or a batch (batch, samples); got shape {raw_speech.shape}."
                )
            return list(raw_speech)
        if isinstance(raw_speech, (list, tuple)):
            if not raw_speech:
                raise SerAudioError("Expected at least one clip, got an empty list.")
            if all(isinstance(x, (int, float, np.number)) for x in raw_speech):
                return [np.asarray(raw_speech, dtype=np.float32)]
            return [np.asarray(x) for x in raw_speech]
        if isinstance(raw_speech, torch.Tensor):
            return self._as_batch(raw_speech.detach().cpu().numpy())
        raise SerAudioError(f"Expected audio as a numpy array or a list of them, got {type(raw_speech).__name__}.")

    def __call__(
        self,
        raw_speech: np.ndarray | list[float] | list[np.ndarray],
        sampling_rate: int | None = None,
        padding: bool | str = "longest",
        max_length: int | None = None,
        truncation: bool = False,
        pad_to_multiple_of: int | None = None,
        return_tensors: str | None = None,
        return_attention_mask: bool | None = None,
        **kwargs,
    ) -> BatchFeature:
        """Featurize one clip ``(samples,)`` or a batch (a list of clips, or an array ``(batch, samples)``).

        Args:
            raw_speech: mono float audio at ``self.sampling_rate``.
            sampling_rate: the rate of ``raw_speech``; a different rate than the extractor's raises.
            padding: ``"longest"``/``True`` (pad to the longest clip), ``"max_length"`` (pad to
                ``max_length``), or ``False``/``"do_not_pad"`` (clips must give equal frame counts).
            max_length: in samples of the input, for ``padding="max_length"`` and for ``truncation``.
            truncation: cut each clip to its first ``max_length`` samples before featurizing.
            return_tensors: ``"np"``, ``"pt"`` or ``None`` (lists of numpy arrays).
        """
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise SerAudioError(
                f"The audio is sampled at {sampling_rate} Hz but the feature extractor expects "
                f"{self.sampling_rate} Hz; resample it first, e.g. ser_hf.models.audio.resample(x, {sampling_rate}, "
                f"{self.sampling_rate}), or load files with ser_hf.data.load_audio(path, {self.sampling_rate})."
            )
        clips = self._as_batch(raw_speech)
        if truncation and max_length is None:
            raise ValueError("truncation=True needs max_length (in samples).")
        features = []
        for index, clip in enumerate(clips):
            if clip.ndim != 1:
                raise SerAudioError(
                    f"Expected mono audio of shape (samples,), got clip {index} of shape {clip.shape}; "
                    "average the channels first (ser_hf.models.audio.normalize_audio)."
                )
            clip = check_waveform(clip.astype(np.float32, copy=False), what=f"audio of clip {index}")
            if truncation:
                clip = clip[:max_length]
            feats = self.extract(self.preprocess(clip))
            if self.normalize_per_utterance:
                feats = self._normalize(feats)
            features.append(feats)
        return self._pad(features, padding, max_length, pad_to_multiple_of, return_tensors, return_attention_mask)

    def _pad(self, features, padding, max_length, pad_to_multiple_of, return_tensors, return_attention_mask):
        lengths = [f.shape[1] for f in features]
        if padding in (True, "longest"):
            target = max(lengths)
        elif padding == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length (in samples).")
            target = max(max(lengths), self.num_frames(max_length))
        elif padding in (False, "do_not_pad"):
            target = None
        else:
            raise ValueError(f"Unknown padding {padding!r}; expected 'longest', 'max_length' or 'do_not_pad'.")
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        want_mask = self.return_attention_mask if return_attention_mask is None else return_attention_mask
        if target is None:
            if return_tensors is not None and len(set(lengths)) > 1:
                raise ValueError("Clips give different frame counts; pass padding='longest' to batch them as tensors.")
            data = {"input_features": features}
            if want_mask:
                data["attention_mask"] = [np.ones(n, dtype=np.int32) for n in lengths]
        else:
            batch = np.full((len(features), features[0].shape[0], target), self.padding_value, dtype=np.float32)
            mask = np.zeros((len(features), target), dtype=np.int32)
            for i, feats in enumerate(features):
                batch[i, :, : feats.shape[1]] = feats
                mask[i, : feats.shape[1]] = 1
            data = {"input_features": batch if return_tensors else list(batch)}
            if want_mask:
                data["attention_mask"] = mask if return_tensors else list(mask)
        return BatchFeature(data, tensor_type=return_tensors)


SerFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
