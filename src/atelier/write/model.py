"""A small decoder-only Transformer (GPT family) for text: pre-norm blocks, causal self-attention
through ``scaled_dot_product_attention``, rotary positions, weight tying, and a key/value cache
so that sampling costs the same per token however long the text grows.

Rotary positions (Su et al. 2021) rotate queries and keys by their absolute position, so
attention depends only on relative positions: the cache can drop its oldest entries when the
text outgrows the context, and generation slides on without recomputing anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Named model sizes: (layers, heads, width). ``tiny`` is nanoGPT's CPU recipe's shape.
SIZES: dict[str, tuple[int, int, int]] = {"tiny": (4, 4, 128), "small": (6, 6, 192), "base": (6, 8, 384)}


@dataclass
class GPTConfig:
    vocab_size: int
    context: int = 256
    layers: int = 4
    heads: int = 4
    width: int = 128
    dropout: float = 0.0
    positions: str = "rotary"
    """rotary (default) or learned (GPT-2's and nanoGPT's absolute embeddings; benchmarks only:
    such a model cannot write past its context with the cache)."""

    def to_dict(self) -> dict:
        return asdict(self)


def rotary_tables(positions: torch.Tensor, head_dim: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables ``(T, head_dim / 2)`` for the given absolute positions."""
    # float64 angles: far into a long sample, float32 would lose the small angles' precision.
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=positions.device) / head_dim)
    angles = positions.double()[:, None] * inv[None, :]
    return angles.cos().float(), angles.sin().float()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels (first half with second half) of ``x`` ``(B, H, T, D)``."""
    a, b = x.chunk(2, dim=-1)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1).type_as(x)


class Cache:
    """Per layer, the keys and values seen so far (at most ``limit`` of them)."""

    def __init__(self, layers: int, limit: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * layers
        self.values: list[torch.Tensor | None] = [None] * layers
        self.limit = limit
        self.position = 0
        """Absolute position of the next token."""

    def extend(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        old_k, old_v = self.keys[layer], self.values[layer]
        if old_k is not None:
            k, v = torch.cat([old_k, k], dim=2), torch.cat([old_v, v], dim=2)
        # Keep the newest ``limit - 1`` so the next token still sees a full context window.
        self.keys[layer], self.values[layer] = k[:, :, -(self.limit - 1) :], v[:, :, -(self.limit - 1) :]
        return k, v


class SelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.width % config.heads or (config.width // config.heads) % 2:
            raise ValueError("width must split into heads of even size")
        self.heads, self.dropout = config.heads, config.dropout
        self.qkv = nn.Linear(config.width, 3 * config.width, bias=False)
        self.proj = nn.Linear(config.width, config.width, bias=False)
        self.resid_drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: Cache | None = None, layer: int = 0) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if cos is not None:
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        causal = True
        if cache is not None:
            fresh = cache.keys[layer] is None
            k, v = cache.extend(layer, k, v)
            # A prompt on an empty cache is causal within itself; one new token sees everything cached.
            causal = fresh and t > 1
            if not fresh and t > 1:
                raise ValueError("feed one token at a time once the cache holds a prompt")
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=self.dropout if self.training else 0.0)
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.width, bias=False)
        self.attn = SelfAttention(config)
        self.norm2 = nn.LayerNorm(config.width, bias=False)
        self.mlp = nn.Sequential(
            nn.Linear(config.width, 4 * config.width, bias=False),
            nn.GELU(),
            nn.Linear(4 * config.width, config.width, bias=False),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: Cache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), cos, sin, cache, layer)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    """Token ids ``(B, T)`` -> next-token logits ``(B, T, vocab)``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.width)
        self.position = nn.Embedding(config.context, config.width) if config.positions == "learned" else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width, bias=False)
        self.head = nn.Linear(config.width, config.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # weight tying (Press & Wolf 2017)
        self.apply(self._init)
        # GPT-2's scaled initialisation of the residual projections keeps the residual stream's
        # variance independent of depth.
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids: torch.Tensor, cache: Cache | None = None) -> torch.Tensor:
        t = ids.shape[1]
        start = 0 if cache is None else cache.position
        if cache is None and t > self.config.context:
            raise ValueError(f"at most {self.config.context} tokens at once, got {t}")
        where = torch.arange(start, start + t, device=ids.device)
        x = self.embed(ids)
        if self.position is None:
            cos, sin = rotary_tables(where, self.config.width // self.config.heads)
        else:
            if start + t > self.config.context:
                raise ValueError("a model with learned positions cannot go past its context")
            cos = sin = None
            x = x + self.position(where)
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, i)
        if cache is not None:
            cache.position += t
        return self.head(self.norm(x))

    def new_cache(self) -> Cache:
        return Cache(len(self.blocks), self.config.context)

    def optimizer(self, lr: float, weight_decay: float, betas: tuple[float, float]) -> torch.optim.AdamW:
        """AdamW with weight decay on matrices only (not on norms; the tied embedding is a matrix)."""
        params = {id(p): p for p in self.parameters()}.values()
        decay = [p for p in params if p.dim() >= 2]
        rest = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=betas)
