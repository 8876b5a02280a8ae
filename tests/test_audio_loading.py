import numpy as np
import pytest
import soundfile as sf

from ser_hf import SerAudioError
from ser_hf.data import load_audio
from ser_hf.models.audio import as_float32, to_mono


def test_load_resamples_and_mixes_to_mono(tmp_path, audio_writer):
    path = audio_writer(tmp_path / "stereo48k.wav", seconds=2.0, sampling_rate=48000, channels=2)
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - 32000) <= 1
    reference = sf.read(str(path), dtype="float32")[0][:, 0]
    assert np.isclose(np.abs(wave).max(), np.abs(reference).max(), rtol=0.05)


def test_load_reads_aiff_named_wav(tmp_path, audio_writer):
    path = audio_writer(tmp_path / "YAF_germ_angry.wav", sampling_rate=24414, fmt="AIFF")
    assert open(path, "rb").read(4) == b"FORM"
    assert abs(len(load_audio(path)) - 16000) <= 2


def test_unreadable_and_missing_files_raise_with_the_path(tmp_path):
    garbage = tmp_path / "broken.wav"
    garbage.write_bytes(b"RIFF not really a wave file")
    with pytest.raises(SerAudioError, match="Cannot read .*broken.wav as audio"):
        load_audio(garbage)
    with pytest.raises(SerAudioError, match="not found"):
        load_audio(tmp_path / "absent.wav")


def test_empty_and_nan_audio_are_rejected(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, np.float32), 16000)
    with pytest.raises(SerAudioError, match="empty"):
        load_audio(empty)
    nan = tmp_path / "nan.wav"
    sf.write(str(nan), np.full(1600, np.nan, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(SerAudioError, match="NaN"):
        load_audio(nan)


def test_int16_and_channel_layouts():
    assert as_float32(np.array([-32768, 0, 16384], np.int16)).tolist() == [-1.0, 0.0, 0.5]
    stereo = np.stack([np.ones(100), np.zeros(100)])  # (channels, samples)
    assert to_mono(stereo).shape == (100,) and np.allclose(to_mono(stereo), 0.5)
    with pytest.raises(SerAudioError, match="mono"):
        to_mono(np.zeros((2, 2, 10)))


def test_a_zero_byte_file_and_a_folder_say_what_they_are(tmp_path):
    zero = tmp_path / "zero.wav"
    zero.write_bytes(b"")
    with pytest.raises(SerAudioError, match=r"zero.wav is empty \(0 bytes\)"):
        load_audio(zero)
    with pytest.raises(SerAudioError, match="is a directory"):
        load_audio(tmp_path)


@pytest.mark.parametrize("name, codec", [("memo.m4a", "aac"), ("browser.webm", "libopus"), ("raw.aac", "aac")])
def test_ffmpeg_formats_decode_to_the_same_tone(tmp_path, name, codec):
    from tests.conftest import write_with_ffmpeg

    rate = 48000 if codec == "libopus" else 44100
    t = np.arange(3 * rate) / rate
    path = write_with_ffmpeg(tmp_path / name, 0.5 * np.sin(2 * np.pi * 440 * t), rate, codec)
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) / 16000 - 3.0) < 0.1  # encoder priming and padding: a few ms
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * 16000 / len(wave) - 440) < 2
    assert 0.4 < np.abs(wave).max() < 0.6


def test_only_the_analysed_start_is_decoded(tmp_path, audio_writer):
    from tests.conftest import write_with_ffmpeg

    wav = audio_writer(tmp_path / "long.wav", seconds=5.0)
    m4a = write_with_ffmpeg(tmp_path / "long.m4a", 0.3 * np.ones(5 * 44100), 44100)
    assert len(load_audio(wav, max_duration_s=1.5)) == 24000
    assert len(load_audio(m4a, max_duration_s=1.5)) == 24000


def test_a_broken_m4a_is_one_clear_sentence(tmp_path):
    broken = tmp_path / "memo.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 200)
    with pytest.raises(SerAudioError, match=r"^Cannot read .*memo.m4a as audio \(.*\); expected an audio file \(WAV, .*M4A/AAC"):
        load_audio(broken)
