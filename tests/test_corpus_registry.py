"""The corpus registry: each corpus is one module, and a new one reaches the scanner, loader, protocols, verifier,
card and command line without touching them."""

import re
from pathlib import Path

import numpy as np
import pytest

from ser_hf import SerDataError
from ser_hf.cli import main
from ser_hf.data import load_corpora, load_corpus, make_split, scan_corpus
from ser_hf.data.corpora import REGISTRY, corpus_names, get_corpus, multi_corpus_names, register_corpus
from ser_hf.data.corpus import Corpus, Skip, speaker_fold_parts
from ser_hf.data.protocols import check_leakage, num_folds, protocol_corpora, protocol_names
from ser_hf.hub.card import card_license

PACKAGE = Path(__file__).resolve().parent.parent / "ser_hf"


def test_each_corpus_is_one_module_with_everything_the_library_asks():
    modules = sorted(p.stem for p in (PACKAGE / "data" / "corpora").glob("*.py") if p.stem != "__init__")
    assert modules == ["crema_d", "ravdess", "tess"]
    assert corpus_names() == multi_corpus_names() == ("ravdess", "crema_d", "tess")
    for name in corpus_names():
        corpus = get_corpus(name)
        assert corpus.protocol in protocol_names() and num_folds(corpus.protocol) == corpus.num_folds
        assert (PACKAGE / "data" / "checksums" / corpus.checksums).is_file()
        assert corpus.citation and corpus.license and corpus.layout.endswith("files") or "(" in corpus.layout
    assert [get_corpus(c).non_commercial for c in corpus_names()] == [True, False, True]
    assert card_license(["crema_d"]) == "odbl" and card_license(["crema_d", "tess"]) == "cc-by-nc-nd-4.0"
    assert card_license(["ravdess", "crema_d", "tess"]) == "cc-by-nc-sa-4.0" and card_license([]) == "other"
    with pytest.raises(SerDataError, match="Unknown corpus 'emodb'; expected one of ravdess, crema_d, tess"):
        get_corpus("emodb")


# A new corpus, written as its module in ser_hf/data/corpora/ would be: "<speaker>_<emotion>_<n>.wav" files.
class ToyParser:
    @staticmethod
    def context(root):
        return {}

    @staticmethod
    def looks_like(path):
        return bool(re.match(r"^s\d_[a-z]+_\d+$", path.stem))

    @staticmethod
    def parse(path, root, context):
        match = re.match(r"^(s\d)_([a-z]+)_(\d+)$", path.stem)
        if not match or match.group(2) not in ("neutral", "angry", "sad"):
            raise Skip("name does not parse as TOY sN_emotion_N")
        speaker, emotion, take = match.groups()
        record = {"speaker": f"toy_{speaker}", "gender": "unknown", "emotion": emotion, "intensity": "unspecified",
                  "text_id": take}
        return record, (speaker, emotion, take)


TOY = Corpus(name="toy", display_name="TOY", license="CC BY 4.0", license_id="cc-by-4.0", non_commercial=False,
             citation="A toy corpus (2026)", native_label_set="big4", layout="sN_emotion_N.wav files",
             parser=ToyParser(), protocol="toy-speakers", num_folds=3,
             fold_parts=lambda speakers, words, fold, seed=0: speaker_fold_parts(
                 np.array([int(s[-1]) for s in speakers]), fold, 3),
             describe_fold=lambda fold: f"speaker s{fold}")


@pytest.fixture
def toy_corpus(tmp_path, audio_writer):
    for speaker in (1, 2, 3):
        for emotion in ("neutral", "angry", "sad"):
            for take in (1, 2):
                audio_writer(tmp_path / "toy" / f"s{speaker}_{emotion}_{take}.wav", seconds=0.5, freq=150 + 40 * speaker)
    audio_writer(tmp_path / "toy" / "s1_bored_1.wav", seconds=0.5)
    register_corpus(TOY)
    yield tmp_path
    del REGISTRY["toy"]


def test_a_registered_corpus_reaches_scanner_loader_protocols_card_and_cli(toy_corpus, capsys):
    scan = scan_corpus("toy", toy_corpus)
    assert len(scan.records) == 18 and [s.path for s in scan.skipped] == ["s1_bored_1.wav"]
    dataset = load_corpus("toy", toy_corpus)
    assert dataset.features["label"].names == ["neutral", "happy", "sad", "angry"]
    assert "toy-speakers" in protocol_names() and protocol_corpora("toy-speakers") == ("toy",)
    split = make_split(dataset, "toy-speakers", fold=2)
    assert set(split["test"]["speaker"]) == {"toy_s2"} and set(split["validation"]["speaker"]) == {"toy_s3"}
    assert main(["data", "splits", "--corpus", "toy", "--protocol", "toy-speakers", "--data-dir",
                 str(toy_corpus), "--json"]) == 0
    assert '"toy_s1"' in capsys.readouterr().out
    assert card_license(["toy"]) == "cc-by-4.0"
    ravdess = toy_corpus / "ravdess" / "Actor_01"  # another registered corpus's files are named as such
    for name in ("03-01-05-01-01-01-01.wav", "03-01-04-01-01-01-01.wav"):
        (ravdess / name).parent.mkdir(parents=True, exist_ok=True)
        (ravdess / name).write_bytes((toy_corpus / "toy" / "s1_angry_1.wav").read_bytes())
    with pytest.raises(SerDataError, match="No TOY clips found .*: it looks like a RAVDESS folder"):
        scan_corpus("toy", toy_corpus / "ravdess")


def test_leave_one_corpus_out_tests_every_speaker_of_the_held_out_corpus(data_root):
    everything = load_corpora(["ravdess", "crema_d", "tess"], data_root, "core7", calm="merge")
    assert num_folds("leave-one-corpus-out") == 3
    for fold, held_out in enumerate(("ravdess", "crema_d", "tess"), start=1):
        split = make_split(everything, "leave-one-corpus-out", fold)
        check_leakage(split)
        assert set(split["test"]["corpus"]) == {held_out}
        assert len(split["test"]) == everything["corpus"].count(held_out)
        assert held_out not in set(split["train"]["corpus"]) | set(split["validation"]["corpus"])
        assert len(split["train"]) + len(split["validation"]) + len(split["test"]) == len(everything)
    tess_training = make_split(everything, "leave-one-corpus-out", 1)
    validation = tess_training["validation"].filter(lambda c: c == "tess", input_columns="corpus")
    training = tess_training["train"].filter(lambda c: c == "tess", input_columns="corpus")
    assert set(validation["speaker"]) == {"tess_OAF", "tess_YAF"}  # held-out words of both speakers
    assert not set(validation["text_id"]) & set(training["text_id"])
    tess_held_out = make_split(everything, "leave-one-corpus-out", 3)
    ravdess_validation = {s for s in tess_held_out["validation"]["speaker"] if s.startswith("ravdess_")}
    assert ravdess_validation == {f"ravdess_{a:02d}" for a in range(5, 9)}  # fold 1's validation actors
