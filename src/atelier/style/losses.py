"""Perceptual losses over encoder features (Gatys et al. 2016; Johnson et al. 2016).

Every loss here is *normalised by its target's energy*, so each layer contributes on the
same scale whatever the network (random or trained) and whatever the layer's magnitude.
That is what lets one set of weights work across backbones.
"""

from __future__ import annotations

import torch


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Gram matrix ``F F^T / (H W)`` of ``(N, C, H, W)`` features, shape ``(N, C, C)``.

    With ``mask`` (``(N, 1, H, W)`` weights), positions are weighted and the sum is
    divided by the mask's total instead of ``H W``: the statistic of the masked region only.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    if mask is None:
        return flat @ flat.transpose(1, 2) / (h * w)
    weights = mask.reshape(n, 1, h * w)
    return (flat * weights) @ flat.transpose(1, 2) / weights.sum(dim=2, keepdim=True).clamp_min(1e-8)


def covariance(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Centred Gram matrix: the channel covariance of ``(N, C, H, W)`` features, ``(N, C, C)``.

    ReLU features are non-negative, so a plain Gram matrix is dominated by the outer
    product of the channel means, which an image with the right colours already matches.
    Removing the means leaves the co-activation *pattern*: the texture.
    """
    n, c, h, w = features.shape
    if mask is None:
        mean = features.mean(dim=(2, 3), keepdim=True)
    else:
        weights = mask / mask.sum(dim=(2, 3), keepdim=True).clamp_min(1e-8)
        mean = (features * weights).sum(dim=(2, 3), keepdim=True)
    return gram_matrix(features - mean, mask)


def mean_std(features: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-5) -> torch.Tensor:
    """Per-channel mean and standard deviation, concatenated to ``(N, 2C)`` (Huang & Belongie 2017)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    if mask is None:
        weights = torch.full((n, 1, h * w), 1.0 / (h * w), dtype=features.dtype, device=features.device)
    else:
        raw = mask.reshape(n, 1, h * w)
        weights = raw / raw.sum(dim=2, keepdim=True).clamp_min(1e-8)
    mean = (flat * weights).sum(dim=2)
    var = ((flat - mean[..., None]) ** 2 * weights).sum(dim=2)
    return torch.cat([mean, (var + eps).sqrt()], dim=1)


STATISTICS = {"gram": gram_matrix, "covariance": covariance, "mean-std": mean_std}


def normalised_mse(value: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``||value - target||^2 / ||target||^2``: a relative error, independent of the layer's scale.

    A target with batch size 1 is compared with every item of a batch (one style for
    many training photos); its energy is counted once per item, so the loss is the mean
    of the items' relative errors rather than growing with the batch size.
    """
    energy = target.pow(2).sum() * (value.shape[0] // target.shape[0] if value.dim() and target.dim() else 1)
    return (value - target).pow(2).sum() / (energy + eps)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Feature reconstruction loss, relative to the target's energy, averaged over the batch.

    Each photo of a batch counts the same, whatever its contrast: the loss of a batch is the
    mean of its items' losses, so that a batch split over several processes (whose losses
    DDP averages) trains exactly as the whole batch in one process would.
    """
    n = features.shape[0]
    if features.dim() > 1 and n > 1 and target.shape[0] == n:
        dims = tuple(range(1, features.dim()))
        return ((features - target).pow(2).sum(dims) / (target.pow(2).sum(dims) + 1e-8)).mean()
    return normalised_mse(features, target)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (penalises high-frequency noise)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def smooth_activations(features: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Activation smoothing (Wang, Li & Vasconcelos 2021): a softmax over each map's activations.

    Peaky, low-entropy activations make non-VGG networks stylise badly; the softmax
    flattens them. The result is rescaled by the number of entries so values stay O(1).
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c * h * w) / temperature
    return (flat.softmax(dim=1) * (c * h * w)).reshape(n, c, h, w)
