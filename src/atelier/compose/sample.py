"""Composing with a trained LSTM-NADE: sampling piano rolls, writing MIDI, rendering audio,
and measuring a model on a benchmark split."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import torch

from atelier import catalog
from atelier.checkpoints import load_checkpoint, model_file_errors
from atelier.compose.data import KEYS, LOWEST, MUSIC21_PREFIX, read_music
from atelier.compose.model import LSTMNADE, MusicConfig
from atelier.compose.train import MODEL_FORMAT, nll_per_step
from atelier.errors import InputError
from atelier.io.atomic import atomic_write

BUILTIN_DIR = Path(__file__).parent / "builtin"
#: General MIDI programs by a friendly name (``--instrument``); any number 0-127 works too.
INSTRUMENTS = {"piano": 0, "harpsichord": 6, "organ": 19, "guitar": 24, "strings": 48, "choir": 52, "flute": 73, "clarinet": 71}
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/usr/share/soundfonts/default.sf2",
)


def builtin_models() -> list[dict]:
    """The models that ship with Atelier (``builtin/models.json``): name, file, how each was trained, ``path``."""
    return catalog.builtin_models(BUILTIN_DIR)


def resolve_model(name_or_path: str | Path) -> Path:
    """A built-in model's name (``jsb-chorales``) or a model file from ``atelier music train``."""
    return catalog.resolve_model(name_or_path, BUILTIN_DIR, "built-in music model")


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[LSTMNADE, dict]:
    data = load_checkpoint(path, MODEL_FORMAT)
    with model_file_errors(path, "music model"):
        model = LSTMNADE(MusicConfig(**data["config"]))
        model.load_state_dict(data["weights"])
    return model.eval(), dict(data.get("info", {}))


def load_music_model(name_or_path: str | Path) -> tuple[LSTMNADE, dict]:
    path = resolve_model(name_or_path)
    return _load(str(path), path.stat().st_mtime)


@torch.no_grad()
def compose(
    model: str | Path | tuple[LSTMNADE, dict],
    steps: int = 64,
    *,
    temperature: float = 1.0,
    primer: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """A new piano roll ``(steps, 88)`` (after the primer's steps, which are not repeated)."""
    if steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}")
    if not temperature > 0:
        raise InputError(f"--temperature must be above 0, got {temperature}")
    net, _ = load_music_model(model) if not isinstance(model, tuple) else model
    generator = torch.Generator().manual_seed(seed)
    previous = torch.zeros(1, 1, KEYS)
    state = None
    if primer is not None and len(primer):
        # Read the primer; its last step is the input that predicts the first new step.
        _, _, state = net.biases(torch.from_numpy(primer[None, :-1].astype(np.float32)), None) if len(primer) > 1 else (None, None, None)
        previous = torch.from_numpy(primer[None, -1:].astype(np.float32))
    out = np.zeros((steps, KEYS), dtype=np.uint8)
    for t in range(steps):
        bv, bh, state = net.biases(previous, state)
        keys = net.sample_step(bv[:, -1], bh[:, -1], generator, temperature)
        out[t] = keys[0].numpy().astype(np.uint8)
        previous = keys[:, None]
    return out


def roll_notes(roll: np.ndarray) -> list[tuple[int, int, int]]:
    """``(start step, end step, MIDI pitch)`` for each note; a key held over several steps is one note."""
    notes = []
    padded = np.vstack([np.zeros((1, KEYS), np.uint8), roll, np.zeros((1, KEYS), np.uint8)]).astype(np.int8)
    changes = np.diff(padded, axis=0)
    for key in range(KEYS):
        starts, ends = np.flatnonzero(changes[:, key] == 1), np.flatnonzero(changes[:, key] == -1)
        notes.extend((int(s), int(e), key + LOWEST) for s, e in zip(starts, ends))
    return sorted(notes)


def instrument_program(instrument: str | int) -> int:
    if isinstance(instrument, int) or str(instrument).isdigit():
        program = int(instrument)
        if 0 <= program <= 127:
            return program
    elif str(instrument).lower() in INSTRUMENTS:
        return INSTRUMENTS[str(instrument).lower()]
    raise InputError(f"--instrument must be a General MIDI program 0-127 or one of {', '.join(INSTRUMENTS)}, got {instrument!r}")


def write_midi(
    roll: np.ndarray, path: str | Path, *, tempo: float = 100.0, steps_per_quarter: int = 1, instrument: str | int = "piano"
) -> Path:
    """A standard MIDI file (type 1, one track) for ``roll``, written atomically."""
    import mido

    if not 20 <= tempo <= 400:
        raise InputError(f"--tempo must be between 20 and 400 beats per minute, got {tempo:g}")
    ticks_per_step = 480 // steps_per_quarter
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    track.append(mido.Message("program_change", program=instrument_program(instrument), time=0))
    events = []
    for start, end, pitch in roll_notes(roll):
        events.append((start * ticks_per_step, 1, pitch))  # note-offs (0) sort before note-ons (1) at the same tick
        events.append((end * ticks_per_step, 0, pitch))
    now = 0
    for tick, on, pitch in sorted(events):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=80 if on else 0, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=480))
    return atomic_write(Path(path), lambda stream: midi.save(file=stream))


def find_soundfont() -> Path | None:
    for candidate in SOUNDFONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def synthesize(roll: np.ndarray, *, tempo: float = 100.0, steps_per_quarter: int = 1, rate: int = 44100) -> np.ndarray:
    """A plain additive synthesiser (a few harmonics, soft attack and decay), mono float32 peaking at -3 dBFS."""
    seconds_per_step = 60.0 / tempo / steps_per_quarter
    length = int((len(roll) * seconds_per_step + 1.0) * rate)
    audio = np.zeros(length, dtype=np.float64)
    for start, end, pitch in roll_notes(roll):
        begin = int(start * seconds_per_step * rate)
        duration = (end - start) * seconds_per_step
        t = np.arange(int((duration + 0.3) * rate)) / rate
        freq = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * freq * k * t) / k**1.5 for k in (1, 2, 3, 4))
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 1.5) * np.clip((duration + 0.3 - t) / 0.3, 0, 1)
        segment = tone * envelope
        audio[begin : begin + len(segment)] += segment[: length - begin]
    peak = np.abs(audio).max()
    return (audio / peak * 10 ** (-3 / 20) if peak > 0 else audio).astype(np.float32)


def write_wav(samples: np.ndarray, path: str | Path, rate: int = 44100) -> Path:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()

    def write(stream) -> None:
        with wave.open(stream, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(data)

    return atomic_write(Path(path), write)


def render_audio(midi_path: str | Path, wav_path: str | Path, roll: np.ndarray, *, tempo: float, steps_per_quarter: int) -> str:
    """Render to WAV with FluidSynth and a General MIDI soundfont when both are installed, else
    with :func:`synthesize`. Returns which renderer was used."""
    fluidsynth, soundfont = shutil.which("fluidsynth"), find_soundfont()
    if fluidsynth and soundfont:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "out.wav"
            run = subprocess.run(
                [fluidsynth, "-ni", "-g", "0.5", "-r", "44100", "-F", str(raw), str(soundfont), str(midi_path)],
                capture_output=True,
                timeout=600,
            )
            if run.returncode == 0 and raw.is_file() and raw.stat().st_size > 44:
                atomic_write(Path(wav_path), lambda stream: stream.write(raw.read_bytes()))
                return f"fluidsynth ({soundfont.name})"
    write_wav(synthesize(roll, tempo=tempo, steps_per_quarter=steps_per_quarter), wav_path)
    return "built-in synthesiser (FluidSynth or a General MIDI soundfont not found)"


def evaluate_music(model: str | Path | tuple[LSTMNADE, dict], data: str | Path, split: str = "test") -> dict:
    """``nll_per_step`` (nats) of ``split`` of a benchmark file or a music21 corpus, or of MIDI
    files (as one split)."""
    net, info = load_music_model(model) if not isinstance(model, tuple) else model
    splits = read_music(data, int(info.get("steps_per_quarter", 2)))
    has_splits = str(data).lower().endswith(".json") or str(data).startswith(MUSIC21_PREFIX)
    pieces = splits.get(split) if has_splits else splits.get("train")
    if not pieces:
        raise InputError(f"{data}: no '{split}' split here (it has {', '.join(splits) or 'nothing'})")
    return {
        "nll_per_step": nll_per_step(net, pieces),
        "split": split,
        "pieces": len(pieces),
        "steps": int(sum(len(p) for p in pieces)),
        "model_step": info.get("step"),
    }
