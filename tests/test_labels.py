import pytest

from ser_hf import SerDataError
from ser_hf.data.labels import EMOTIONS, LABEL_SETS, get_label_set, map_emotion


def test_label_sets_are_ordered_subsets_of_the_canonical_emotions():
    assert EMOTIONS == ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    assert LABEL_SETS["ravdess8"] == EMOTIONS
    assert LABEL_SETS["core7"] == ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    assert LABEL_SETS["core6"] == LABEL_SETS["core7"][:6]
    assert LABEL_SETS["big4"] == ("neutral", "happy", "sad", "angry")


def test_calm_policy_drop_and_merge():
    assert map_emotion("calm", "core7", calm="drop") is None
    assert map_emotion("calm", "core7", calm="merge") == "neutral"
    assert map_emotion("calm", "ravdess8", calm="merge") == "calm"  # kept where the label set has it
    assert map_emotion("surprised", "core6") is None
    assert map_emotion("angry", "big4") == "angry"


def test_unknown_names_raise_one_clear_error():
    with pytest.raises(SerDataError, match="Unknown label set 'core9'"):
        get_label_set("core9")
    with pytest.raises(SerDataError, match="Unknown emotion 'bored'"):
        map_emotion("bored", "core7")
    with pytest.raises(SerDataError, match="calm policy"):
        map_emotion("calm", "core7", calm="keep")
