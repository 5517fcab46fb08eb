"""Music as piano rolls: ``(steps, 88)`` binary arrays, one row per time step, one column per
piano key (MIDI 21-108). Readers for the JSB Chorales benchmark file and for MIDI files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from atelier.errors import InputError

LOWEST = 21  # A0, the piano's lowest key
KEYS = 88
SPLITS = ("train", "valid", "test")


def roll_from_steps(steps: list[list[int]]) -> np.ndarray:
    """A piano roll from a list of time steps, each a list of MIDI pitches sounding then."""
    roll = np.zeros((len(steps), KEYS), dtype=np.uint8)
    for t, pitches in enumerate(steps):
        for pitch in pitches:
            if not LOWEST <= int(pitch) < LOWEST + KEYS:
                raise ValueError(f"pitch {pitch} is outside the piano")
            roll[t, int(pitch) - LOWEST] = 1
    return roll


def read_benchmark(path: str | Path) -> dict[str, list[np.ndarray]]:
    """The Boulanger-Lewandowski (2012) JSON format: ``{"train"|"valid"|"test": [piece, ...]}``,
    a piece a list of time steps, a step a list of MIDI pitches."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return {split: [roll_from_steps(piece) for piece in data[split]] for split in SPLITS if split in data}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise InputError(f"{path}: not a piano-roll benchmark file ({type(error).__name__}: {error})") from None


def read_midi(path: str | Path, steps_per_quarter: int = 2) -> np.ndarray:
    """A MIDI file as a piano roll with ``steps_per_quarter`` steps per beat (drums are left out;
    a note sounds in every step its duration covers)."""
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except Exception as error:  # mido raises IOError, EOFError, ValueError, KeySignatureError...
        raise InputError(f"{path}: not a readable MIDI file ({type(error).__name__})") from None
    ticks = midi.ticks_per_beat / steps_per_quarter
    notes, start = [], {}
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type not in ("note_on", "note_off") or getattr(message, "channel", 0) == 9:
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                start.setdefault(key, now)
            elif key in start:
                notes.append((start.pop(key), now, message.note))
    if not notes:
        raise InputError(f"{path}: no notes in this MIDI file")
    length = int(np.ceil(max(end for _, end, _ in notes) / ticks))
    roll = np.zeros((max(1, length), KEYS), dtype=np.uint8)
    for begin, end, pitch in notes:
        if LOWEST <= pitch < LOWEST + KEYS:
            first = int(round(begin / ticks))
            last = max(first + 1, int(round(end / ticks)))
            roll[first:last, pitch - LOWEST] = 1
    return roll


def read_music(path: str | Path, steps_per_quarter: int = 2, skipped: list[str] | None = None) -> dict[str, list[np.ndarray]]:
    """A benchmark JSON file (its splits), one MIDI file or a folder of them (all as ``train``).

    In a folder, files that cannot be read (damaged, or without notes) are skipped and their
    one-line reasons appended to ``skipped``; a folder with no readable file is an error.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return read_benchmark(path)
    if path.is_file():
        return {"train": [read_midi(path, steps_per_quarter)]}
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
        if not files:
            raise InputError(f"{path}: no MIDI files here (.mid, .midi)")
        rolls, reasons = [], []
        for f in files:
            try:
                rolls.append(read_midi(f, steps_per_quarter))
            except InputError as error:
                reasons.append(str(error))
        if skipped is not None:
            skipped.extend(reasons)
        if not rolls:
            raise InputError(f"{path}: none of the {len(files)} MIDI files could be read ({reasons[0]})")
        return {"train": rolls}
    raise InputError(f"{path}: no such file or folder")


def transpose(roll: np.ndarray, shift: int) -> np.ndarray:
    """``roll`` moved by ``shift`` semitones (the caller keeps every note on the keyboard)."""
    return np.roll(roll, shift, axis=1)


def transpose_range(roll: np.ndarray) -> tuple[int, int]:
    """The smallest and largest shifts that keep every note of ``roll`` on the keyboard."""
    used = np.flatnonzero(roll.any(axis=0))
    if not len(used):
        return 0, 0
    return -int(used[0]), KEYS - 1 - int(used[-1])
