"""Generate new images with GANs trained on an artist's own small collection."""

from atelier.generate.data import load_dataset
from atelier.generate.sample import evaluate, interpolate, sample, sample_grid
from atelier.generate.train import GanEvent, GanSettings, load_generator, train_gan

__all__ = ["GanEvent", "GanSettings", "evaluate", "interpolate", "load_dataset", "load_generator", "sample", "sample_grid", "train_gan"]
