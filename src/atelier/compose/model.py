"""LSTM-NADE: a recurrent network over time whose every step is a NADE over the 88 keys.

Boulanger-Lewandowski, Bengio & Vincent (2012), *Modeling Temporal Dependencies in
High-Dimensional Sequences* (RNN-NADE), with an LSTM as the recurrent part. The LSTM reads the
previous steps and sets the biases of a NADE (Larochelle & Murray 2011), which gives the
exact probability of the current step's set of notes, key by key from the lowest:

    p(x_t | x_<t) = prod_n p(x_t[n] | x_t[<n], x_<t)

so chords are modelled jointly (a note's probability depends on the notes already chosen in
the same step), not as 88 independent coins. The recurrent state carries time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from atelier.compose.data import KEYS


@dataclass
class MusicConfig:
    hidden: int = 256
    """LSTM width."""
    layers: int = 2
    nade_hidden: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMNADE(nn.Module):
    def __init__(self, config: MusicConfig) -> None:
        super().__init__()
        self.config = config
        h = config.nade_hidden
        self.rnn = nn.LSTM(KEYS, config.hidden, config.layers, batch_first=True, dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.to_bias = nn.Linear(config.hidden, KEYS + h)  # the NADE's visible and hidden biases
        self.W = nn.Parameter(torch.randn(h, KEYS) * 0.01)  # NADE: key n's contribution to the hidden units
        self.V = nn.Parameter(torch.randn(KEYS, h) * 0.01)  # NADE: hidden units -> key n's logit

    def biases(self, previous: torch.Tensor, state=None):
        """``previous`` ``(B, T, 88)``: the steps before each predicted step -> NADE biases and the LSTM state."""
        out, state = self.rnn(previous, state)
        b = self.to_bias(self.drop(out))
        return b[..., :KEYS], b[..., KEYS:], state

    def logits(self, roll: torch.Tensor, bv: torch.Tensor, bh: torch.Tensor) -> torch.Tensor:
        """Each key's logit given the keys below it in the same step (teacher forcing, all at once)."""
        contributions = self.W[None, None] * roll[..., None, :]  # (B, T, H, 88)
        # Exclusive cumulative sum over keys: key n sees the keys below it only.
        a = bh[..., None] + contributions.cumsum(-1) - contributions
        return bv + torch.einsum("bthn,nh->btn", torch.sigmoid(a), self.V)

    def step_nll(self, roll: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood (nats) of every step of ``roll`` ``(B, T, 88)``, ``(B, T)``; step 0
        is predicted from silence."""
        previous = F.pad(roll[:, :-1], (0, 0, 1, 0))
        bv, bh, _ = self.biases(previous)
        logits = self.logits(roll, bv, bh)
        return F.binary_cross_entropy_with_logits(logits, roll, reduction="none").sum(-1)

    def forward(self, roll: torch.Tensor) -> torch.Tensor:
        return self.step_nll(roll)

    @torch.no_grad()
    def sample_step(self, bv: torch.Tensor, bh: torch.Tensor, generator: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
        """One step's keys ``(B, 88)`` drawn key by key from the NADE with biases ``bv`` ``(B, 88)``, ``bh`` ``(B, H)``."""
        a = bh.clone()
        keys = torch.zeros_like(bv)
        for n in range(KEYS):
            p = torch.sigmoid((bv[:, n] + torch.sigmoid(a) @ self.V[n]) / temperature)
            keys[:, n] = (torch.rand(p.shape, generator=generator) < p).float()
            a = a + keys[:, n : n + 1] * self.W[:, n]
        return keys
