"""The one decision rule (log probabilities -> answer) and the arithmetic every scoring path shares."""

import numpy as np
import pytest

from ser_hf.models.errors import SerError
from ser_hf.scoring.decision import (LOG_FLOOR, MIN_CLIP_S, NO_SPEECH_CODE, TOO_SHORT, UNCERTAIN, UNCERTAIN_CODE,
                                     answer, decide, normalize_log, safe_log, softmax)
from ser_hf.scoring.speech import NO_SPEECH

LABELS = ["neutral", "happy", "sad"]


def test_decide_answers_rows_with_codes_for_no_speech_and_uncertain():
    rows = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [np.nan] * 3, [0.4, 0.35, 0.25]]))
    np.testing.assert_array_equal(decide(rows), [0, 2, NO_SPEECH_CODE, 0])
    np.testing.assert_array_equal(decide(rows, min_confidence=0.5), [0, 2, NO_SPEECH_CODE, UNCERTAIN_CODE])
    # columns: only the labels scored count, and the confidence is among them (0.35 / 0.6 > 0.5 for happy over sad)
    np.testing.assert_array_equal(decide(rows, columns=[1, 2], min_confidence=0.55), [0, 1, NO_SPEECH_CODE, 0])
    assert decide(np.zeros((0, 3))).shape == (0,)


def test_answer_is_the_word_a_user_reads():
    p = np.log(np.array([0.2, 0.5, 0.3]))
    assert answer(p, LABELS) == "happy"
    assert answer(p, LABELS, min_confidence=0.6) == UNCERTAIN
    assert answer(None, LABELS) == NO_SPEECH and answer(np.full(3, np.nan), LABELS) == NO_SPEECH
    assert answer(p, LABELS, duration_s=MIN_CLIP_S - 0.01) == TOO_SHORT
    assert answer(None, LABELS, duration_s=0.1) == TOO_SHORT  # too short comes first, as the recognizer says it
    assert answer(np.log(np.array([0.9, 0.05, 0.05])), LABELS, duration_s=MIN_CLIP_S) == "neutral"


def test_safe_log_softmax_and_normalize():
    assert safe_log(np.array([0.0, 1.0])).tolist() == [LOG_FLOOR, 0.0]
    assert np.isnan(safe_log(np.array([np.nan]))).all()
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(softmax(logits).sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(logits, 2.0), softmax(logits / 2.0))
    np.testing.assert_allclose(softmax(logits[1]), [1 / 3] * 3)
    shifted = normalize_log(np.log([0.2, 0.3, 0.5]) + 7.0)  # a constant added to every label changes nothing
    np.testing.assert_allclose(np.exp(shifted), [0.2, 0.3, 0.5])
    with pytest.raises(SerError, match="positive"):
        softmax(logits, 0)  # a caller's bug, not a silent NaN
