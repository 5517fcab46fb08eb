"""Measuring results: classification metrics today; PSNR, SSIM and Frechet distances next."""

from atelier.metrics.classification import ClassificationReport, classification_report, confusion_matrix

__all__ = ["ClassificationReport", "classification_report", "confusion_matrix"]
