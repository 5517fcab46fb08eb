"""Measuring results: image quality, classification metrics and distances between image distributions."""

from atelier.metrics.classification import ClassificationReport, classification_report, confusion_matrix
from atelier.metrics.distributions import frechet_between, frechet_distance, gaussian_stats, kernel_distance
from atelier.metrics.images import psnr, ssim

__all__ = [
    "ClassificationReport",
    "classification_report",
    "confusion_matrix",
    "frechet_between",
    "frechet_distance",
    "gaussian_stats",
    "kernel_distance",
    "psnr",
    "ssim",
]
