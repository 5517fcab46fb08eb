"""Listen-proxy checks on composed pieces, against the data they imitate.

    python benchmarks/music_samples.py [MODEL] [--data DATA] [--pieces 20] [--steps 64]

For the built-in ``jsb-chorales`` model (or MODEL, e.g. ``folk-songs`` with its data
``music21:essenFolksong``): NLL per step on the data's three splits, then ``--pieces`` sampled
pieces against the test split's pieces on
* pitch range (lowest, highest, mean MIDI pitch),
* notes per step (polyphony),
* key consistency: the share of notes inside the best-fitting major or natural-minor scale,
* repeated-step share (how often a step repeats the previous one: held chords);
and one piece rendered to audio (duration, peak and RMS level in dBFS, clipping) plus a
spectrogram picture (docs/images/compose-spectrogram.png) and its piano roll
(docs/images/compose-roll.png). Writes benchmarks/results/music.json (music-MODEL.json and
images named after the model for the others).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from atelier.compose.data import LOWEST, read_music
from atelier.compose.sample import compose, evaluate_music, load_music_model, render_audio, write_midi
from atelier.studio.routes.compose import piano_roll_png

ROOT = Path(__file__).resolve().parents[1]
JSB = ROOT.parent / "shared" / "music" / "jsb-chorales-quarter.json"
DATA = {"jsb-chorales": str(JSB), "folk-songs": "music21:essenFolksong"}
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])


def key_consistency(roll: np.ndarray) -> float:
    """Share of sounding notes inside the best of the 24 major and natural-minor scales."""
    counts = np.zeros(12)
    for key, n in enumerate(roll.sum(0)):
        counts[(key + LOWEST) % 12] += n
    if counts.sum() == 0:
        return 0.0
    best = max(counts[(scale + tonic) % 12].sum() for tonic in range(12) for scale in (MAJOR, MINOR))
    return float(best / counts.sum())


def describe(pieces: list[np.ndarray]) -> dict:
    pitches = np.concatenate([np.nonzero(p)[1] + LOWEST for p in pieces])
    return {
        "pieces": len(pieces),
        "lowest": int(pitches.min()),
        "highest": int(pitches.max()),
        "mean_pitch": round(float(pitches.mean()), 1),
        "notes_per_step": round(float(np.mean([p.sum(1).mean() for p in pieces])), 2),
        "key_consistency": round(float(np.mean([key_consistency(p) for p in pieces])), 3),
        "repeated_steps": round(float(np.mean([(p[1:] == p[:-1]).all(1).mean() for p in pieces])), 3),
    }


def spectrogram_png(samples: np.ndarray, rate: int, path: Path) -> None:
    from PIL import Image

    window, hop = 2048, 512
    frames = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop] * np.hanning(window)
    spectrum = np.abs(np.fft.rfft(frames, axis=1)).T[: window // 4]  # up to rate / 4 Hz
    db = 20 * np.log10(spectrum + 1e-6)
    db = np.clip((db - db.max() + 80) / 80, 0, 1)[::-1]
    image = (np.stack([db**0.7, db**1.5, db**3], -1) * 255).astype(np.uint8)
    Image.fromarray(image).resize((min(1600, image.shape[1] * 2), 400)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="jsb-chorales")
    parser.add_argument("--data", help="Pieces with train/valid/test splits (default: the built-in's own data).")
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--steps", type=int, default=64)
    args = parser.parse_args()
    net, info = load_music_model(args.model)
    data = args.data or DATA.get(args.model, str(JSB))
    per_quarter = int(info.get("steps_per_quarter", 1))
    suffix = "" if args.model == "jsb-chorales" else f"-{Path(args.model).stem}"
    result = {"model": args.model, "data": data, "when": time.strftime("%Y-%m-%d %H:%M")}
    result["nll_per_step"] = {s: round(evaluate_music((net, info), data, s)["nll_per_step"], 3) for s in ("train", "valid", "test")}
    started = time.perf_counter()
    samples = [compose((net, info), args.steps, seed=seed) for seed in range(args.pieces)]
    result["seconds_per_piece"] = round((time.perf_counter() - started) / args.pieces, 2)
    result["samples"] = describe(samples)
    result["data_test"] = describe(read_music(data, per_quarter)["test"])
    with tempfile.TemporaryDirectory() as tmp:
        instrument = "organ" if args.model == "jsb-chorales" else "flute"
        midi = write_midi(samples[0], Path(tmp) / "a.mid", tempo=90, steps_per_quarter=per_quarter, instrument=instrument)
        wav = Path(tmp) / "a.wav"
        renderer = render_audio(midi, wav, samples[0], tempo=90, steps_per_quarter=per_quarter)
        with wave.open(str(wav)) as w:
            rate, channels = w.getframerate(), w.getnchannels()
            audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32).reshape(-1, channels).mean(1) / 32768
        result["audio"] = {
            "renderer": renderer,
            "seconds": round(len(audio) / rate, 2),
            "peak_dbfs": round(float(20 * np.log10(np.abs(audio).max() + 1e-12)), 1),
            "rms_dbfs": round(float(20 * np.log10(np.sqrt((audio**2).mean()) + 1e-12)), 1),
            "clipped_samples": int((np.abs(audio) >= 0.999).sum()),
        }
        spectrogram_png(audio, rate, ROOT / "docs" / "images" / f"compose-spectrogram{suffix}.png")
    piano_roll_png(samples[0], ROOT / "docs" / "images" / f"compose-roll{suffix}.png")
    out = ROOT / "benchmarks" / "results" / f"music{suffix}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
