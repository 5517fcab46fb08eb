"""Music as piano rolls: ``(steps, 88)`` binary arrays, one row per time step, one column per
piano key (MIDI 21-108). Readers for the JSB Chorales benchmark file, MIDI files and the corpora
that ship inside ``music21`` (``music21:essenFolksong``, ``music21:bach``...: no download).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from atelier.errors import InputError
from atelier.events import Event, OnEvent
from atelier.io.paths import cache_dir

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


MUSIC21_PREFIX = "music21:"


def split_of(name: str) -> str:
    """A piece's split in a corpus without one: fixed by a hash of its name (90/5/5), so adding
    pieces never moves old ones between train and test."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 20
    return "test" if bucket == 0 else "valid" if bucket == 1 else "train"


def roll_from_stream(score, steps_per_quarter: int) -> np.ndarray | None:
    """A music21 score (all parts) as a piano roll, ``None`` when it has no notes."""
    notes = []
    for element in score.flatten().notes:  # notes and chords, offsets in quarter notes
        begin = float(element.offset) * steps_per_quarter
        end = begin + float(element.quarterLength) * steps_per_quarter
        notes += [(begin, end, p.midi) for p in element.pitches]
    if not notes:
        return None
    roll = np.zeros((max(1, int(np.ceil(max(e for _, e, _ in notes)))), KEYS), dtype=np.uint8)
    for begin, end, pitch in notes:
        if LOWEST <= pitch < LOWEST + KEYS:
            first = int(round(begin))
            roll[first : max(first + 1, int(round(end))), pitch - LOWEST] = 1
    return roll


def read_music21(name: str, steps_per_quarter: int = 2, on_progress: OnEvent | None = None) -> dict[str, list[np.ndarray]]:
    """A corpus shipped inside ``music21`` (a composer or collection name its
    ``corpus.getComposer`` knows: ``essenFolksong``, ``bach``, ``beethoven``...) as piano rolls
    in train/valid/test splits (:func:`split_of`). Parsing is slow (minutes for the Essen
    songs), so the rolls are cached under ``~/.cache/atelier/music21`` (``ATELIER_CACHE`` moves it)."""
    try:
        import music21
        from music21 import converter, corpus
    except ImportError:
        raise InputError("music21 corpora need the music21 package: pip install music21") from None
    paths = sorted(corpus.getComposer(name))
    if not paths:
        raise InputError(f"{MUSIC21_PREFIX}{name}: music21 has no corpus of that name (try essenFolksong or bach)")
    cache = cache_dir("music21") / f"{name}-{steps_per_quarter}-{music21.__version__}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            splits: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
            for key in sorted(stored.files, key=lambda k: int(k.split("_")[1])):
                splits[key.split("_")[0]].append(stored[key])
            return splits
    splits = {split: [] for split in SPLITS}
    for index, path in enumerate(paths):
        if on_progress:
            on_progress(Event(index, len(paths), phase=f"reading {MUSIC21_PREFIX}{name}", detail=Path(path).name))
        try:
            parsed = converter.parse(path)
        except Exception:  # music21 raises many kinds on odd files; a corpus file it cannot read is skipped
            continue
        scores = list(parsed.scores) if hasattr(parsed, "scores") else [parsed]
        for number, score in enumerate(scores):
            roll = roll_from_stream(score, steps_per_quarter)
            if roll is not None:
                splits[split_of(f"{Path(path).name}#{number}")].append(roll)
    arrays = {f"{split}_{i}": roll for split in SPLITS for i, roll in enumerate(splits[split])}
    partial = cache.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(cache)  # atomic: an interrupted parse leaves no half cache
    return splits


def read_music(
    path: str | Path, steps_per_quarter: int = 2, skipped: list[str] | None = None, on_progress: OnEvent | None = None
) -> dict[str, list[np.ndarray]]:
    """A benchmark JSON file (its splits), ``music21:NAME`` (a corpus inside music21, in
    train/valid/test splits), one MIDI file or a folder of them (all as ``train``).

    In a folder, files that cannot be read (damaged, or without notes) are skipped and their
    one-line reasons appended to ``skipped``; a folder with no readable file is an error.
    """
    if str(path).startswith(MUSIC21_PREFIX):
        return read_music21(str(path)[len(MUSIC21_PREFIX) :], steps_per_quarter, on_progress)
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
