"""Text <-> token ids: characters (the default, any UTF-8 text) or byte-level BPE trained
offline on the corpus with the ``tokenizers`` package. Both are plain data in the model file.
"""

from __future__ import annotations

from typing import Protocol

from atelier.errors import InputError

TOKENIZERS = ("char", "bpe")
UNKNOWN = "\ufffd"


class Tokenizer(Protocol):
    kind: str

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...

    def to_dict(self) -> dict: ...


class CharTokenizer:
    """One token per character. Id 0 stands for any character the corpus did not contain."""

    kind = "char"

    def __init__(self, chars: str) -> None:
        self.chars = UNKNOWN + "".join(c for c in chars if c != UNKNOWN)
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def train(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(c, 0) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def unknown(self, text: str) -> str:
        """The characters of ``text`` this tokenizer has no token for."""
        return "".join(sorted({c for c in text if c not in self.index}))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "chars": self.chars}


class BPETokenizer:
    """Byte-level BPE (GPT-2's scheme): no unknown tokens, any script, merges learnt from the corpus."""

    kind = "bpe"

    def __init__(self, serialized: str) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        self.serialized = serialized
        self.tok = HFTokenizer.from_str(serialized)

    @classmethod
    def train(cls, text: str, vocab_size: int = 1024) -> BPETokenizer:
        try:
            from tokenizers import Tokenizer as HFTokenizer
            from tokenizers import decoders, models, pre_tokenizers, trainers
        except ImportError:
            raise InputError("--tokenizer bpe needs the tokenizers package (pip install tokenizers)") from None
        tok = HFTokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False, special_tokens=[]
        )
        # Train on chunks so that very long corpora do not become one giant "sentence".
        chunks = [text[i : i + 4096] for i in range(0, len(text), 4096)]
        tok.train_from_iterator(chunks, trainer=trainer)
        return cls(tok.to_str())

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "serialized": self.serialized}


def train_tokenizer(kind: str, text: str, vocab_size: int = 1024) -> Tokenizer:
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "bpe":
        return BPETokenizer.train(text, vocab_size)
    raise InputError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")


def tokenizer_from_dict(data: dict) -> Tokenizer:
    if data.get("kind") == "char":
        return CharTokenizer(data["chars"])
    if data.get("kind") == "bpe":
        return BPETokenizer(data["serialized"])
    raise ValueError(f"unknown tokenizer {data.get('kind')!r}")


class StreamDecoder:
    """Turns ids arriving one at a time into text pieces, holding back a byte-level token that
    ends inside a multi-byte character until the character is complete."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer, self.ids, self.sent = tokenizer, [], 0

    def push(self, token: int) -> str:
        self.ids.append(token)
        if self.tokenizer.kind == "char":
            return self.tokenizer.decode([token])
        text = self.tokenizer.decode(self.ids)
        if text.endswith(UNKNOWN):
            return ""
        piece, self.sent = text[self.sent :], len(text)
        return piece

    def flush(self) -> str:
        if self.tokenizer.kind == "char":
            return ""
        text = self.tokenizer.decode(self.ids)
        piece, self.sent = text[self.sent :], len(text)
        return piece
