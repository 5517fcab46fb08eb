"""Music: piano rolls, the LSTM-NADE's probabilities, training lifecycle, MIDI and audio, CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from atelier.compose.data import KEYS, LOWEST, read_midi, read_music, roll_from_steps, transpose_range
from atelier.compose.model import LSTMNADE, MusicConfig
from atelier.compose.sample import compose, evaluate_music, roll_notes, synthesize, write_midi, write_wav
from atelier.compose.settings import MusicSettings
from atelier.compose.train import nll_per_step, train_music
from atelier.errors import Cancelled, InputError

JSB = Path(__file__).resolve().parents[2] / "shared" / "music" / "jsb-chorales-quarter.json"
# A tiny "chorale" repeated: C major and G major chords, held and re-struck.
CHORDS = [[60, 64, 67], [60, 64, 67], [55, 59, 62, 67], [60, 64, 67, 72]] * 6


def tiny_model() -> LSTMNADE:
    torch.manual_seed(0)
    return LSTMNADE(MusicConfig(hidden=16, layers=1, nade_hidden=8, dropout=0.0)).eval()


def small_benchmark(tmp_path: Path) -> Path:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"train": [CHORDS] * 8, "valid": [CHORDS], "test": [CHORDS]}))
    return path


def test_rolls_and_transposition_ranges():
    roll = roll_from_steps([[21, 108], [60]])
    assert roll.shape == (2, KEYS) and roll[0, 0] == roll[0, 87] == roll[1, 60 - LOWEST] == 1 and roll.sum() == 3
    assert transpose_range(roll_from_steps([[60], [72]])) == (-(60 - LOWEST), KEYS - 1 - (72 - LOWEST))
    with pytest.raises(ValueError):
        roll_from_steps([[10]])


def test_the_nade_is_a_proper_distribution_over_the_chords_of_a_step():
    """Over every possible set of notes (on a 5-key slice of the keyboard, all others silent) the
    probabilities of one step sum to at most 1, and exp(-NLL) matches the product of the key by
    key conditionals computed by hand."""
    model = tiny_model()
    keys = range(30, 35)
    total = 0.0
    for bits in itertools.product([0, 1], repeat=len(keys)):
        roll = torch.zeros(1, 1, KEYS)
        roll[0, 0, list(keys)] = torch.tensor(bits, dtype=torch.float32)
        total += torch.exp(-model.step_nll(roll)).item()
    assert 0 < total <= 1.0 + 1e-6
    # By hand: the NADE's chain rule for one chord.
    roll = torch.zeros(1, 1, KEYS)
    roll[0, 0, [40, 44, 47]] = 1
    bv, bh, _ = model.biases(torch.zeros(1, 1, KEYS))
    a, log_p = bh[0, 0].clone(), 0.0
    for n in range(KEYS):
        p = torch.sigmoid(bv[0, 0, n] + torch.sigmoid(a) @ model.V[n])
        x = roll[0, 0, n]
        log_p += torch.log(p if x else 1 - p).item()
        a = a + x * model.W[:, n]
    assert model.step_nll(roll).item() == pytest.approx(-log_p, rel=1e-5)


def test_a_later_step_cannot_change_an_earlier_steps_probability():
    model = tiny_model()
    roll = torch.from_numpy(roll_from_steps(CHORDS[:6]).astype(np.float32))[None]
    changed = roll.clone()
    changed[0, 4:] = 1 - changed[0, 4:]
    a, b = model.step_nll(roll), model.step_nll(changed)
    assert torch.allclose(a[0, :4], b[0, :4]) and not torch.allclose(a[0, 4:], b[0, 4:])


def test_midi_round_trip_and_held_notes(tmp_path: Path):
    roll = roll_from_steps(CHORDS[:4])
    notes = roll_notes(roll)
    assert (0, 2, 60) in notes and (3, 4, 72) in notes  # C held over two steps is one note
    write_midi(roll, tmp_path / "a.mid", tempo=90, steps_per_quarter=1, instrument="organ")
    again = read_midi(tmp_path / "a.mid", steps_per_quarter=1)
    assert np.array_equal(again, roll)
    with pytest.raises(InputError, match="instrument"):
        write_midi(roll, tmp_path / "b.mid", instrument="kazoo")


def test_the_synthesiser_is_neither_silent_nor_clipped(tmp_path: Path):
    audio = synthesize(roll_from_steps(CHORDS[:8]), tempo=120, steps_per_quarter=1)
    assert len(audio) == pytest.approx((8 * 0.5 + 1.0) * 44100, rel=0.01)
    peak, rms = np.abs(audio).max(), np.sqrt((audio**2).mean())
    assert peak == pytest.approx(10 ** (-3 / 20), rel=1e-3) and rms > 0.05
    write_wav(audio, tmp_path / "a.wav")
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert w.getframerate() == 44100 and w.getnframes() == len(audio)


@pytest.mark.slow
def test_training_learns_the_pieces_and_resume_equals_a_straight_run(tmp_path: Path):
    data = small_benchmark(tmp_path)
    settings = dict(
        steps=150,
        batch=4,
        crop=16,
        hidden=32,
        layers=1,
        nade_hidden=16,
        dropout=0.0,
        eval_every=50,
        checkpoint_every=50,
        transpose=0,
        lr=1e-2,
    )
    untrained = nll_per_step(tiny_model(), read_music(data)["test"])
    summary = train_music(data, tmp_path / "m.pt", MusicSettings(**settings))
    trained = evaluate_music(tmp_path / "m.pt", data, "test")["nll_per_step"]
    assert summary["best"] is not None and trained < 0.1 * untrained  # from 88 x ln 2 = 61 nats
    # Interrupted at step 70 and resumed = straight (the checkpoint holds optimiser and step).
    stop = threading.Event()
    with pytest.raises(Cancelled):
        train_music(data, tmp_path / "a.pt", MusicSettings(**settings), on_progress=lambda e: e.step == 70 and stop.set(), cancel=stop)
    train_music(data, tmp_path / "a.pt", MusicSettings(**settings), resume=True)
    straight = torch.load(tmp_path / "m.pt.train", weights_only=True)["trainer"]["model"]
    resumed = torch.load(tmp_path / "a.pt.train", weights_only=True)["trainer"]["model"]
    assert all(torch.allclose(straight[k], resumed[k], atol=1e-6) for k in straight)
    # A trained model writes chords like the data's: 3-4 notes, only the data's pitches.
    roll = compose(tmp_path / "m.pt", 24, seed=1)
    assert 2.5 <= roll.sum(1).mean() <= 4.5
    assert set(np.flatnonzero(roll.any(0)) + LOWEST) <= {55, 59, 60, 62, 64, 67, 72}


def test_sampling_is_deterministic_with_a_seed():
    model = (tiny_model(), {})
    a = compose(model, 12, seed=3)
    assert a.shape == (12, KEYS) and np.array_equal(a, compose(model, 12, seed=3))
    assert not np.array_equal(a, compose(model, 12, seed=4))


def test_a_corrupt_midi_file_in_a_folder_is_skipped_and_counted(tmp_path: Path):
    folder = tmp_path / "pieces"
    folder.mkdir()
    for i in range(3):
        write_midi(roll_from_steps(CHORDS[i : i + 8]), folder / f"good-{i}.mid", steps_per_quarter=1)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    skipped: list[str] = []
    assert len(read_music(folder, 1, skipped)["train"]) == 3
    assert len(skipped) == 1 and "broken.mid" in skipped[0]
    run = subprocess.run(
        [sys.executable, "-m", "atelier", "music", "train", str(folder), "-o", str(tmp_path / "m.pt"), "--steps", "2", "--hidden", "8",
         "--nade-hidden", "4", "--layers", "1", "--steps-per-quarter", "1", "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "skipped" in run.stderr and "broken.mid" in run.stderr
    summary = json.loads(run.stdout)
    assert len(summary["skipped"]) == 1 and summary["train_pieces"] + summary["valid_pieces"] == 3


def test_bad_input_is_one_clear_line(tmp_path: Path):
    (tmp_path / "notes.mid").write_text("not midi")
    with pytest.raises(InputError, match="not a readable MIDI"):
        read_music(tmp_path / "notes.mid")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no MIDI files"):
        read_music(tmp_path / "empty")
    run = subprocess.run(
        [sys.executable, "-m", "atelier", "music", "train", str(tmp_path / "notes.mid"), "-o", str(tmp_path / "m.pt")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.strip().splitlines()[-1].startswith("error:")


@pytest.mark.skipif(not JSB.is_file(), reason="../shared/music is not here")
def test_the_builtin_jsb_model_through_the_cli(tmp_path: Path):
    cli = [sys.executable, "-m", "atelier", "music"]
    listed = json.loads(subprocess.run([*cli, "models", "--json"], capture_output=True, text=True, check=True).stdout)
    assert [m["name"] for m in listed] == ["jsb-chorales", "folk-songs"]
    folk = subprocess.run(
        [*cli, "sample", "folk-songs", "-o", str(tmp_path / "f.mid"), "--bars", "4", "--json"], capture_output=True, text=True
    )
    assert folk.returncode == 0, folk.stderr
    tune = json.loads(folk.stdout)[0]
    assert tune["steps"] == 32 and 0.5 < tune["notes_per_step"] <= 1.5  # 4 bars of eighth notes; a melody, about one note a step
    run = subprocess.run([*cli, "evaluate", "jsb-chorales", str(JSB), "--split", "valid", "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["nll_per_step"] < 8.1
    run = subprocess.run(
        [*cli, "sample", "-o", str(tmp_path / "c.mid"), "--wav", str(tmp_path / "c.wav"), "--bars", "2", "--json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    piece = json.loads(run.stdout)[0]
    assert Path(piece["midi"]).stat().st_size > 50 and Path(piece["wav"]).stat().st_size > 44100


def test_music21_corpora_are_read_split_and_cached(tmp_path: Path, monkeypatch):
    pytest.importorskip("music21")
    from atelier.compose import data

    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path / "cache"))
    splits = read_music("music21:josquin", 2)  # 8 small ABC files inside music21: 29 pieces
    pieces = [p for split in splits.values() for p in split]
    assert len(pieces) == 29 and all(p.shape[1] == KEYS and p.any() for p in pieces)
    assert len(splits["train"]) > len(splits["valid"]) + len(splits["test"])
    assert data.split_of("a.abc#1") == data.split_of("a.abc#1")  # a piece never changes split
    cached = list((tmp_path / "cache" / "music21").glob("josquin-2-*.npz"))
    assert len(cached) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again instead of reading the cache")

    from music21 import converter

    monkeypatch.setattr(converter, "parse", no_parsing)
    again = read_music("music21:josquin", 2)
    assert all(np.array_equal(a, b) for split in data.SPLITS for a, b in zip(splits[split], again[split]))
    with pytest.raises(InputError, match="no corpus of that name"):
        read_music("music21:no-such-composer", 2)
    monkeypatch.undo()
    summary = train_music(
        "music21:josquin", tmp_path / "j.pt", MusicSettings(steps=2, batch=2, crop=16, hidden=8, layers=1, nade_hidden=4, eval_every=2)
    )
    assert summary["train_pieces"] == len(splits["train"]) and summary["valid_pieces"] == len(splits["valid"])
    assert evaluate_music(tmp_path / "j.pt", "music21:josquin", "train")["pieces"] == len(splits["train"])
