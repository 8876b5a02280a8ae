"""Publishing: the model card and ``ser-hf push`` (the model folder with remote code, or the Space)."""

from __future__ import annotations

from .card import render_model_card
from .publish import prepare_model_folder, prepare_space_folder, push, ship_model

__all__ = ["prepare_model_folder", "prepare_space_folder", "push", "render_model_card", "ship_model"]
