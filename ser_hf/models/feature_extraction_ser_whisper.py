"""``SerWhisperFeatureExtractor``: Whisper's log-mel after ser_hf's level-invariant front (DC removal and
peak, RMS or loudness normalization of each clip).

``WhisperFeatureExtractor``'s log-mel shifts with the input gain, so a model trained on it learns loudness:
the same clip at -30 dBFS gets other answers. This subclass normalizes each clip first, inside the feature
extractor saved with the model, so ``pipeline``, ``EmotionRecognizer``, streaming and the Space all feed the
model the same input. Saved as ``preprocessor_config.json`` and reloaded by ``AutoFeatureExtractor``.
"""

from __future__ import annotations

import numpy as np
from transformers import WhisperFeatureExtractor
from transformers.utils import logging

from .errors import SerAudioError
from .preprocessing import NORMALIZATIONS, preprocess

logger = logging.get_logger(__name__)


class SerWhisperFeatureExtractor(WhisperFeatureExtractor):
    r"""``WhisperFeatureExtractor`` with a level-invariant front.

    Args:
        remove_dc_offset (`bool`, defaults to `True`): subtract each clip's mean first.
        normalization (`str`, *optional*, defaults to `"peak"`): `"peak"`, `"rms"`, `"loudness"` or `None`
            (plain Whisper features), applied to each clip before the log-mel.
        target_db (`float`, *optional*): the level to normalize to (defaults of
            :func:`~ser_hf.models.preprocessing.normalize`: peak -1 dBFS, RMS -20 dBFS, -23 LUFS).
        kwargs: the arguments of ``WhisperFeatureExtractor`` (`feature_size`, `sampling_rate`, ...).

    ``__call__`` takes what ``WhisperFeatureExtractor.__call__`` takes (one clip ``(samples,)`` or a list of
    clips) and returns the same ``input_features (batch, feature_size, frames)``.
    """

    def __init__(self, remove_dc_offset: bool = True, normalization: str | None = "peak",
                 target_db: float | None = None, **kwargs):
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {normalization!r}; expected 'peak', 'rms', 'loudness' or None.")
        super().__init__(**kwargs)
        self.remove_dc_offset = remove_dc_offset
        self.normalization = normalization
        self.target_db = target_db

    def normalize_level(self, clip) -> np.ndarray:
        """One mono clip ``(samples,)`` with its DC offset removed and its level normalized."""
        clip = np.asarray(clip, dtype=np.float32)
        if clip.ndim != 1:
            raise SerAudioError(f"Expected mono audio of shape (samples,), got a clip of shape {clip.shape}.")
        return preprocess(clip, self.sampling_rate, remove_dc_offset=self.remove_dc_offset,
                          normalization=self.normalization, target_db=self.target_db, trim=False)

    def __call__(self, raw_speech, *args, **kwargs):
        batched = (isinstance(raw_speech, np.ndarray) and raw_speech.ndim > 1) or (
            isinstance(raw_speech, (list, tuple)) and len(raw_speech) > 0
            and isinstance(raw_speech[0], (np.ndarray, list, tuple)))
        clips = [self.normalize_level(clip) for clip in (raw_speech if batched else [raw_speech])]
        if kwargs.get("truncation", True) and max(len(clip) for clip in clips) > self.n_samples:
            # The pipeline passes the whole input; EmotionRecognizer windows long audio and never gets here.
            logger.warning_once(f"Only the first {self.chunk_length} s of each clip are analysed; "
                                "ser_hf.EmotionRecognizer scores longer audio in windows.")
        return super().__call__(clips if batched else clips[0], *args, **kwargs)


SerWhisperFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
