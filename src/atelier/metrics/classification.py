"""Classification metrics from a confusion matrix (rows: true class, columns: predicted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts; entry ``[t, p]`` counts items of class t predicted as p."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for t, p in zip(true, predicted):
        matrix[t, p] += 1
    return matrix


@dataclass
class ClassificationReport:
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    """``{class: {"precision", "recall", "f1", "support"}}``."""
    confusion: list[list[int]]
    classes: list[str]

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": self.per_class,
            "confusion_matrix": self.confusion,
            "classes": self.classes,
        }


def classification_report(matrix: np.ndarray, classes: Sequence[str]) -> ClassificationReport:
    """Accuracy, macro F1 and per-class precision/recall/F1 from a confusion matrix.

    A class never predicted has precision 0 (and likewise recall 0 with no support), the
    convention of scikit-learn's ``zero_division=0``.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    total = matrix.sum()
    tp = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    per_class = {
        name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(actual[i])}
        for i, name in enumerate(classes)
    }
    return ClassificationReport(
        accuracy=float(tp.sum() / total) if total else 0.0,
        macro_f1=float(f1.mean()) if len(f1) else 0.0,
        per_class=per_class,
        confusion=matrix.astype(int).tolist(),
        classes=list(classes),
    )
