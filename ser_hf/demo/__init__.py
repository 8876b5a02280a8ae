"""The Gradio demo (``ser-hf demo`` and the Space): file upload and live microphone."""

from __future__ import annotations

from .app import (
    BUNDLED_MODELS,
    LiveSession,
    ModelPool,
    add_enrollment_clip,
    build_demo,
    clear_enrollment,
    launch,
    predict_upload,
    reset_session,
    stream_microphone,
    timeline_points,
)

__all__ = ["BUNDLED_MODELS", "LiveSession", "ModelPool", "add_enrollment_clip", "build_demo", "clear_enrollment",
           "launch", "predict_upload", "reset_session", "stream_microphone", "timeline_points"]
