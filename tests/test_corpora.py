"""The loaders on the real corpora (skipped where absent) and on generated trees in the official layouts."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from ser_hf import SerDataError
from ser_hf.data import load_corpus, scan_corpus, with_decoded_audio

EXPECTED = {  # corpus: (records, speakers, emotions)
    "ravdess": (1440, 24, 8),
    "tess": (2800, 2, 7),
    "crema_d": (7441, 91, 6),
}


def manifest_counts(data_root: Path, corpus: str, exclude: set[str] = frozenset()) -> Counter:
    with open(data_root / corpus / "manifest.csv", newline="") as handle:
        return Counter(row["emotion"] for row in csv.DictReader(handle) if Path(row["path"]).stem not in exclude)


@pytest.mark.parametrize("corpus", ["ravdess", "tess", "crema_d"])
def test_real_corpus_counts_match_the_manifest(data_root, corpus):
    dataset, skipped = load_corpus(corpus, data_root, return_skipped=True)
    records, speakers, emotions = EXPECTED[corpus]
    assert len(dataset) == records
    assert len(set(dataset["speaker"])) == speakers
    assert len(set(dataset["emotion"])) == emotions
    exclude = {"1076_MTI_SAD_XX"} if corpus == "crema_d" else set()
    assert Counter(dataset["emotion"]) == manifest_counts(data_root, corpus, exclude)
    if corpus == "crema_d":
        assert [(s.path, s.reason.split(" ")[0]) for s in skipped] == [("AudioWAV/1076_MTI_SAD_XX.ogg", "digital")]
        assert Counter(dataset["gender"]) == {"male": 3930, "female": 3511}
    else:
        assert skipped == []


def test_real_ravdess_columns_and_decoding(data_root):
    dataset = load_corpus("ravdess", data_root)
    row = dataset[0]
    assert set(row) == {"audio", "path", "corpus", "speaker", "gender", "emotion", "label", "duration_s",
                        "intensity", "text_id", "perceived"}
    assert row["speaker"] == "ravdess_01" and row["gender"] == "male" and row["emotion"] == "neutral"
    assert dataset.features["label"].names[row["label"]] == "neutral"
    assert Counter(dataset["intensity"]) == {"normal": 768, "strong": 672}
    decoded = with_decoded_audio(dataset)[0]["audio"]
    assert decoded["sampling_rate"] == 16000
    assert abs(len(decoded["array"]) / 16000 - row["duration_s"]) < 0.01


def test_real_tess_quirks(data_root):
    dataset = load_corpus("tess", data_root)
    rows = [r for r in dataset if r["text_id"] == "bite" and r["emotion"] == "neutral"]
    assert sorted(r["speaker"] for r in rows) == ["tess_OAF", "tess_YAF"]  # OA_bite_neutral is OAF
    assert Counter(dataset["speaker"]) == {"tess_OAF": 1400, "tess_YAF": 1400}


def test_label_set_and_calm_policy(data_root):
    dropped = load_corpus("ravdess", data_root, "core7", calm="drop")
    merged = load_corpus("ravdess", data_root, "core7", calm="merge")
    assert len(dropped) == 1440 - 192 and len(merged) == 1440
    assert Counter(merged["emotion"])["neutral"] == 96 + 192
    assert load_corpus("crema_d", data_root, "big4").features["label"].names == ["neutral", "happy", "sad", "angry"]


# --- generated trees in the official layouts ------------------------------------------------------


def make_ravdess(root: Path, write) -> Path:
    for actor in (1, 2):
        for emotion in ("01", "05"):
            write(root / f"Actor_{actor:02d}" / f"03-01-{emotion}-01-01-01-{actor:02d}.wav", sampling_rate=48000)
    write(root / "Actor_01" / "03-01-03-02-02-01-01.wav", sampling_rate=48000, channels=2)  # stereo
    write(root / "Actor_01" / "03-02-05-01-01-01-01.wav", sampling_rate=48000)  # song
    (root / "Actor_01" / "01-01-05-01-01-01-01.mp4").write_bytes(b"\x00" * 64)  # video
    write(root / "Actor_02" / "03-01-04-01-01-01-03.wav")  # folder disagrees with the actor
    write(root / "Actor_02" / "notes.wav")  # does not parse
    # a nested duplicated copy, as the Kaggle mirror has
    write(root / "audio_speech_actors_01-24" / "Actor_01" / "03-01-01-01-01-01-01.wav", sampling_rate=48000)
    return root


def test_ravdess_official_layout_with_quirks(tmp_path, audio_writer):
    root = make_ravdess(tmp_path / "ravdess", audio_writer)
    scan = scan_corpus("ravdess", root)
    assert len(scan.records) == 5
    reasons = {s.path: s.reason for s in scan.skipped}
    assert "song" in reasons["Actor_01/03-02-05-01-01-01-01.wav"]
    assert "modality 01 is not audio-only" in reasons["Actor_01/01-01-05-01-01-01-01.mp4"]  # a video: its name says so
    assert "disagrees" in reasons["Actor_02/03-01-04-01-01-01-03.wav"]
    assert "does not parse" in reasons["Actor_02/notes.wav"]
    assert "duplicate of Actor_01/03-01-01-01-01-01-01.wav" in reasons[
        "audio_speech_actors_01-24/Actor_01/03-01-01-01-01-01-01.wav"]
    stereo = next(r for r in scan.records if r["emotion"] == "happy")
    assert stereo["intensity"] == "strong" and stereo["gender"] == "male"
    with pytest.raises(SerDataError, match=r"5 file\(s\) .* skipped and --strict is set"):
        scan_corpus("ravdess", root, strict=True)


def make_tess(root: Path, write) -> Path:
    write(root / "OAF_Fear" / "OAF_back_fear.wav", sampling_rate=24414)
    write(root / "OAF_Fear" / "OAF_food_fear.wav", sampling_rate=96000)
    write(root / "OAF_Pleasant_surprise" / "OAF_back_ps.wav", sampling_rate=24414)
    write(root / "OAF_neutral" / "OA_bite_neutral.wav", sampling_rate=24414)
    write(root / "YAF_pleasant_surprised" / "YAF_back_ps.wav", sampling_rate=24414)
    write(root / "YAF_angry" / "YAF_germ_angry.wav", sampling_rate=24414, fmt="AIFF")
    write(root / "YAF_sad" / "YAF_back_happy.wav", sampling_rate=24414)  # name and folder disagree
    nested = root / "TESS Toronto emotional speech set data"
    write(nested / "OAF_Fear" / "OAF_back_fear.wav", sampling_rate=24414)  # duplicated nested copy
    return root


def test_tess_official_layout_with_quirks(tmp_path, audio_writer):
    scan = scan_corpus("tess", make_tess(tmp_path / "tess", audio_writer))
    got = {(r["speaker"], r["text_id"], r["emotion"]) for r in scan.records}
    assert got == {
        ("tess_OAF", "back", "fearful"),
        ("tess_OAF", "food", "fearful"),
        ("tess_OAF", "back", "surprised"),
        ("tess_OAF", "bite", "neutral"),
        ("tess_YAF", "back", "surprised"),
        ("tess_YAF", "germ", "angry"),
    }
    reasons = sorted(s.reason.split(" (")[0] for s in scan.skipped)
    assert len(reasons) == 2
    assert any(r.startswith("duplicate of OAF_Fear/OAF_back_fear.wav") for r in reasons)
    assert any("disagrees with folder YAF_sad" in r for r in reasons)
    food = next(r for r in scan.records if r["text_id"] == "food")
    assert abs(food["duration_s"] - 1.0) < 1e-3  # the 96 kHz file's duration is read from its own rate


def make_crema_d(root: Path, write) -> Path:
    audio = root / "AudioWAV"
    write(audio / "1001_DFA_ANG_XX.wav")
    write(audio / "1001_IEO_HAP_HI.wav")
    write(audio / "1002_DFA_NEU_XX.wav")
    write(audio / "1040_ITH_SAD_X.wav")
    write(audio / "1040_ITH_SAD_XX.wav")  # the same clip under its official name: counted once
    write(audio / "1076_MTI_SAD_XX.wav", silent=True)
    (audio / "1003_DFA_FEA_XX.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (root / "VideoDemographics.csv").write_text(
        '"ActorID","Age","Sex","Race","Ethnicity"\n1001,51,"Male","Caucasian","Not Hispanic"\n'
        '1002,21,"Female","Caucasian","Not Hispanic"\n'
    )
    return root


def test_crema_d_official_layout_with_quirks(tmp_path, audio_writer):
    scan = scan_corpus("crema_d", make_crema_d(tmp_path / "crema_d", audio_writer))
    assert sorted((r["speaker"], r["gender"], r["emotion"], r["intensity"]) for r in scan.records) == [
        ("crema_d_1001", "male", "angry", "unspecified"),
        ("crema_d_1001", "male", "happy", "high"),
        ("crema_d_1002", "female", "neutral", "unspecified"),
        ("crema_d_1040", "unknown", "sad", "unspecified"),
    ]
    reasons = {s.path: s.reason for s in scan.skipped}
    assert reasons["AudioWAV/1076_MTI_SAD_XX.wav"].startswith("digital silence")
    assert reasons["AudioWAV/1003_DFA_FEA_XX.wav"].startswith("unreadable audio")
    assert "duplicate of AudioWAV/1040_ITH_SAD_X" in reasons["AudioWAV/1040_ITH_SAD_XX.wav"]


def test_flac_and_ogg_are_read(tmp_path, audio_writer):
    audio_writer(tmp_path / "AudioWAV" / "1001_DFA_ANG_XX.flac", fmt="FLAC")
    audio_writer(tmp_path / "AudioWAV" / "1001_DFA_DIS_XX.ogg", fmt="OGG", subtype="OPUS", sampling_rate=16000)
    assert len(scan_corpus("crema_d", tmp_path).records) == 2


def test_bad_folders_give_one_clear_sentence(tmp_path, audio_writer):
    with pytest.raises(SerDataError, match="does not exist"):
        load_corpus("ravdess", tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SerDataError, match="is empty"):
        load_corpus("tess", tmp_path / "empty")
    tess = make_tess(tmp_path / "tess_only", audio_writer)
    with pytest.raises(SerDataError, match="looks like a TESS folder"):
        load_corpus("crema_d", tess)
    with pytest.raises(SerDataError, match="Unknown corpus 'iemocap'"):
        load_corpus("iemocap", tess)


def test_crema_d_carries_what_listeners_heard_and_training_can_keep_the_clips_heard_as_acted(data_root, tmp_path):
    from ser_hf.data.splits import heard_as_acted, perceived_as_acted
    from ser_hf.train.arguments import DataArguments
    from ser_hf.train.data import load_fold

    crema = load_corpus("crema_d", data_root)
    perceived = dict(zip((Path(p).stem for p in crema["path"]), crema["perceived"]))
    # summaryTable.csv's voice-only votes: N, a tie F:N, and a happy clip the crowd heard as neutral
    assert perceived["1001_IEO_NEU_XX"] == "neutral" and perceived["1001_IEO_HAP_LO"] == "neutral"
    assert all(v for v in perceived.values())  # every clip of the copy in ../shared is rated
    assert set(load_corpus("tess", data_root)["perceived"]) == {""}  # a corpus without ratings
    assert heard_as_acted("fearful", "fearful:neutral") and not heard_as_acted("happy", "neutral")
    assert heard_as_acted("happy", "")
    kept = perceived_as_acted(crema)
    assert 0.3 < len(kept) / len(crema) < 0.7 and all(heard_as_acted(e, p) for e, p in zip(kept["emotion"], kept["perceived"]))
    # A recipe's perceived_only: the training part only; validation and test keep every clip.
    data = DataArguments(corpora=["crema_d", "tess"], data_dir=str(data_root), label_set="core7", protocol="multi-corpus")
    plain, _ = load_fold(data)
    data.perceived_only = True
    filtered, _ = load_fold(data)
    assert len(filtered["train"]) < len(plain["train"]) and len(filtered["validation"]) == len(plain["validation"])
    assert Counter(filtered["train"]["corpus"])["tess"] == Counter(plain["train"]["corpus"])["tess"]
