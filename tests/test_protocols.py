import warnings

import datasets
import pytest

from ser_hf import SerDataError
from ser_hf.data import load_corpora, load_corpus
from ser_hf.data.protocols import PROTOCOLS, check_leakage, describe_splits, make_split


@pytest.fixture(scope="module")
def ravdess(data_root):
    return load_corpus("ravdess", data_root)


def test_ravdess_6fold_tests_actors_4k_minus_3_to_4k(ravdess):
    folds = describe_splits(ravdess, "ravdess-6fold")["folds"]
    assert len(folds) == 6
    tested = []
    for k, fold in enumerate(folds, start=1):
        assert fold["test"]["speakers"] == [f"ravdess_{a:02d}" for a in range(4 * k - 3, 4 * k + 1)]
        nxt = k % 6 + 1
        assert fold["validation"]["speakers"] == [f"ravdess_{a:02d}" for a in range(4 * nxt - 3, 4 * nxt + 1)]
        assert len(fold["train"]["speakers"]) == 16
        assert fold["test"]["num_records"] == 240
        tested += fold["test"]["speakers"]
    assert sorted(tested) == sorted(set(ravdess["speaker"]))


def test_crema_d_speakers_tests_every_actor_once(data_root):
    crema = load_corpus("crema_d", data_root)
    folds = describe_splits(crema, "crema_d-speakers")["folds"]
    tested = [s for fold in folds for s in fold["test"]["speakers"]]
    assert len(tested) == len(set(tested)) == 91
    assert folds[0]["test"]["speakers"][:3] == ["crema_d_1001", "crema_d_1007", "crema_d_1013"]
    assert all(15 <= len(f["test"]["speakers"]) <= 16 for f in folds)


def test_no_speaker_in_two_parts_for_any_protocol(data_root):
    everything = load_corpora(["ravdess", "crema_d", "tess"], data_root, "core6")
    for protocol, corpora in [("ravdess-6fold", ["ravdess"]), ("crema_d-speakers", ["crema_d"]),
                              ("tess-cross-speaker", ["tess"]), ("multi-corpus", ["ravdess", "crema_d", "tess"])]:
        dataset = everything.filter(lambda c: c in corpora, input_columns="corpus")
        for fold in describe_splits(dataset, protocol)["folds"]:
            train, val, test = (set(fold[p]["speakers"]) for p in ("train", "validation", "test"))
            assert not (train & test) and not (val & test), (protocol, fold["name"])
            assert not {s for s in train & val if not s.startswith("tess_")}, (protocol, fold["name"])
            total = sum(fold[p]["num_records"] for p in ("train", "validation", "test"))
            assert total == len(dataset)


def test_tess_validation_is_word_disjoint(data_root):
    tess = load_corpus("tess", data_root)
    split = make_split(tess, "tess-cross-speaker", 1)
    assert set(split["test"]["speaker"]) == {"tess_OAF"}
    assert not set(split["train"]["text_id"]) & set(split["validation"]["text_id"])
    assert len(set(split["validation"]["text_id"])) == 20


def test_multi_corpus_fold_parts(data_root):
    everything = load_corpora(["ravdess", "crema_d", "tess"], data_root, "core7")
    split = make_split(everything, "multi-corpus", 2)
    test_speakers = set(split["test"]["speaker"])
    assert "tess_YAF" in test_speakers and "tess_OAF" not in test_speakers
    assert {f"ravdess_{a:02d}" for a in range(5, 9)} <= test_speakers


def tiny(speakers, words=None):
    n = len(speakers)
    return datasets.Dataset.from_dict({
        "speaker": speakers, "corpus": [s.split("_")[0] for s in speakers],
        "text_id": words or ["w"] * n, "label": [i % 2 for i in range(n)],
    })


def test_leakage_check_names_the_speakers():
    split = datasets.DatasetDict({
        "train": tiny(["ravdess_01", "ravdess_02"]),
        "validation": tiny(["ravdess_03"]),
        "test": tiny(["ravdess_02", "ravdess_04"]),
    })
    with pytest.raises(SerDataError, match="speakers in both train and test: ravdess_02"):
        check_leakage(split)
    tess = datasets.DatasetDict({"train": tiny(["tess_OAF"], ["back"]), "validation": tiny(["tess_OAF"], ["back"]),
                                 "test": tiny(["tess_YAF"], ["back"])})
    with pytest.raises(SerDataError, match="TESS words in both train and validation: back"):
        check_leakage(tess)


def test_random_protocol_needs_a_flag_and_warns():
    data = tiny([f"ravdess_{i % 4 + 1:02d}" for i in range(40)])
    with pytest.raises(SerDataError, match="allow_random=True"):
        make_split(data, "random")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split = make_split(data, "random", allow_random=True)
    assert any("same speakers in train and test" in str(w.message) for w in caught)
    assert (len(split["train"]), len(split["validation"]), len(split["test"])) == (32, 4, 4)


def test_protocol_and_fold_errors():
    data = tiny(["ravdess_01"])
    with pytest.raises(SerDataError, match="folds 1 to 6; got fold 7"):
        make_split(data, "ravdess-6fold", 7)
    with pytest.raises(SerDataError, match="Protocol tess-cross-speaker splits tess"):
        make_split(data, "tess-cross-speaker", 1)
    with pytest.raises(SerDataError, match="Unknown protocol"):
        make_split(data, "leave-one-out", 1)
    assert "random" in PROTOCOLS
