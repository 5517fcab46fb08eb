"""Recognise style, artist or genre by transfer learning from EfficientNet-Lite0."""

from atelier.classify.data import Dataset, scan_folder, split
from atelier.classify.model import ArtClassifier
from atelier.classify.train import TrainEvent, TrainResult, TrainSettings, evaluate, predict, train_classifier

__all__ = [
    "ArtClassifier", "Dataset", "TrainEvent", "TrainResult", "TrainSettings",
    "evaluate", "predict", "scan_folder", "split", "train_classifier",
]
