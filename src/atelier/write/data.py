"""Reading a writer's corpus: one UTF-8 text file or a folder of them, and the held-out split."""

from __future__ import annotations

from pathlib import Path

from atelier.errors import InputError

TEXT_SUFFIXES = (".txt", ".md", ".text")


def read_text(path: str | Path) -> str:
    """A UTF-8 text file's content (a byte-order mark is dropped; Windows line ends become ``\\n``).
    Binary files, other encodings and empty files get one clear line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: this looks like a binary file, not text (give a UTF-8 .txt file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start} cannot be decoded); save it as UTF-8 first") from None
    return text.replace("\r\n", "\n")


def read_corpus(path: str | Path, *, min_chars: int = 2) -> str:
    """The text of ``path``: a file, or every ``.txt``/``.md`` file under a folder (sorted by
    name, separated by a blank line)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise InputError(f"{path}: no text files here (looked for {', '.join(TEXT_SUFFIXES)})")
        text = "\n\n".join(read_text(f).strip("\n") for f in files)
    elif path.exists():
        text = read_text(path)
    else:
        raise InputError(f"{path}: no such file or folder")
    if len(text.strip()) < min_chars:
        raise InputError(f"{path}: the corpus is empty")
    return text


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """Training text and the held-out tail (the last ``val_fraction`` of the characters, never trained on)."""
    cut = int(len(text) * (1 - val_fraction))
    return text[:cut], text[cut:]
