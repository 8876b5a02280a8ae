"""The evaluate module against hand-computed values."""

import pytest

from ser_hf.evaluation.metrics import load_ser_metrics


@pytest.fixture(scope="module")
def metric():
    return load_ser_metrics()


def test_hand_computed_values(metric):
    # classes 0, 1, 2; references 4x0, 2x1, 2x2
    references = [0, 0, 0, 0, 1, 1, 2, 2]
    predictions = [0, 0, 0, 1, 1, 1, 0, 2]
    out = metric.compute(predictions=predictions, references=references, labels=[0, 1, 2],
                         label_names=["neutral", "happy", "sad"])
    # recalls 3/4, 2/2, 1/2 -> UA 0.75; WA 6/8
    assert out["ua"] == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    assert out["wa"] == pytest.approx(0.75)
    # precisions: class0 3/4, class1 2/3, class2 1/1
    p, r = [0.75, 2 / 3, 1.0], [0.75, 1.0, 0.5]
    f1 = [2 * a * b / (a + b) for a, b in zip(p, r)]
    assert out["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert out["weighted_f1"] == pytest.approx((4 * f1[0] + 2 * f1[1] + 2 * f1[2]) / 8)
    assert out["per_class"]["happy"] == {"precision": pytest.approx(2 / 3), "recall": 1.0,
                                         "f1": pytest.approx(0.8), "support": 2}
    assert out["confusion_matrix"] == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert out["labels"] == ["neutral", "happy", "sad"]


def test_a_class_never_predicted_and_one_absent_from_the_references(metric):
    # class 2 is never predicted; class 3 never occurs in the references (but is predicted once)
    out = metric.compute(predictions=[0, 1, 1, 3], references=[0, 1, 2, 2], labels=[0, 1, 2, 3])
    assert out["per_class"]["2"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert out["per_class"]["3"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert out["ua"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)  # class 3 has no references: left out
    assert out["wa"] == pytest.approx(0.5)
    assert out["macro_f1"] == pytest.approx((1.0 + 2 * 0.5 * 1.0 / 1.5 + 0.0) / 3)
