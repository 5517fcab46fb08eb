"""The 3D GAN: shapes, clip-consistent augmentation, motion statistics by hand, clip cutting,
determinism, resume round trip, sampling to GIF/MP4, CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("av")
pytest.importorskip("cv2")

from atelier.errors import InputError  # noqa: E402
from atelier.video.gan.data import load_clips  # noqa: E402
from atelier.video.gan.model import VideoDiscriminator, VideoGenerator  # noqa: E402
from atelier.video.gan.sample import clip_grid_frames, generate_clips, sample_clips  # noqa: E402
from atelier.video.gan.settings import VideoGanSettings  # noqa: E402
from atelier.video.gan.train import clip_augment, load_video_generator, motion_statistics, train_video_gan  # noqa: E402
from atelier.video.io import synthetic_clip  # noqa: E402

TINY = {
    "size": 32,
    "frames": 8,
    "batch": 4,
    "width": 4,
    "width_d": 4,
    "z_dim": 16,
    "eval_samples": 4,
    "sample_every": 2,
    "checkpoint_every": 2,
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    synthetic_clip(folder / "a.mp4", width=64, height=64, frames=24, pan=2, audio=False)
    synthetic_clip(folder / "b.mp4", width=96, height=48, frames=24, pan=1, audio=False)
    (folder / "notes.mp4").write_text("not a video")
    return folder


@pytest.mark.parametrize("size,frames", [(32, 16), (32, 8), (64, 16), (32, 32)])
def test_shapes(size: int, frames: int) -> None:
    g, d = VideoGenerator(size, frames, 16, 4), VideoDiscriminator(size, frames, 4)
    clips = g(torch.randn(2, 16))
    assert clips.shape == (2, 3, frames, size, size) and clips.abs().max() <= 1
    assert d(clips).shape == (2,)


def test_background_is_still_where_the_mask_is_off() -> None:
    g = VideoGenerator(32, 8, 16, 4).eval()
    torch.nn.init.constant_(g.to_mask.weight, 0)
    torch.nn.init.constant_(g.to_mask.bias, -50)  # mask ~ 0: only the background shows
    clips = g(torch.randn(2, 16))
    assert (clips[:, :, 1:] - clips[:, :, :-1]).abs().max() < 1e-6


def test_augmentation_is_drawn_once_per_clip() -> None:
    frame = torch.rand(1, 3, 1, 16, 16) * 2 - 1
    clips = frame.expand(3, 3, 6, 16, 16).clone()  # three copies of one still clip
    out = clip_augment(clips, "color,translation,cutout", torch.Generator().manual_seed(0))
    assert torch.equal(out[:, :, 0:1].expand_as(out), out)  # every frame got the same shift, colour and cutout
    assert not torch.equal(out, clips)
    assert not torch.equal(out[0], out[1])  # but each clip its own draw
    again = clip_augment(clips, "color,translation,cutout", torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert torch.equal(clip_augment(clips, "", torch.Generator()), clips)


def test_motion_statistics_by_hand() -> None:
    still = torch.full((1, 3, 4, 8, 8), 0.5)
    np.testing.assert_allclose(motion_statistics(still), 0)
    blink = still.clone()
    blink[:, :, 1::2] = 0  # 0.5, 0, 0.5, 0: every step changes by 0.5
    stats = motion_statistics(blink)
    np.testing.assert_allclose(stats[0, :3], 0.5)
    std = torch.tensor([0.5, 0, 0.5, 0]).std().item()  # unbiased, as torch.std
    np.testing.assert_allclose(stats[0, 3:], std, rtol=1e-6)


def test_clips_are_cut_from_videos_without_crossing_scene_cuts(tmp_path: Path, videos: Path) -> None:
    skipped: list[str] = []
    clips = load_clips(videos, 32, 8, stride=1, hop=4, skipped=skipped)
    # a.mp4: square, 24 frames -> starts 0, 4, ..., 16 = 5 clips; b.mp4: wide -> 3 crops x 5
    assert clips.shape == (20, 3, 8, 32, 32) and clips.dtype == torch.uint8
    assert len(skipped) == 1 and "notes.mp4" in skipped[0]
    cut = synthetic_clip(tmp_path / "cut.mp4", width=64, height=64, frames=20, cut_at=10, audio=False)
    # two shots of 10 frames: each gives clips at starts 0 and 2 with hop 2 -> 2 per shot; none spans the cut
    assert len(load_clips(cut, 32, 8, stride=1, hop=2)) == 4
    with pytest.raises(InputError, match="no clip of 32 frames"):
        load_clips(cut, 32, 32, stride=1)


def test_training_resume_round_trip_and_sampling(tmp_path: Path, videos: Path) -> None:
    run = tmp_path / "run"
    summary = train_video_gan(videos, run, VideoGanSettings(**TINY, steps=4))
    assert summary["steps"] == 4 and summary["clips"] > 10 and np.isfinite(summary["metrics"]["fd_frames"])
    resumed = train_video_gan(videos, run, VideoGanSettings(steps=6), resume=True)
    assert resumed["steps"] == 6
    rows = list(csv.DictReader(open(run / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6] and rows[-1]["fd_motion"]
    straight = tmp_path / "straight"
    train_video_gan(videos, straight, VideoGanSettings(**TINY, steps=6))
    a, meta = load_video_generator(run)
    b, _ = load_video_generator(straight)
    assert meta["step"] == 6 and meta["settings"]["width"] == 4
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a(z), b(z), atol=1e-5)  # optimisers, data order and random draws restored
    assert torch.equal(generate_clips(a, 3, seed=5), generate_clips(a, 3, seed=5))
    assert (run / "samples" / "step_000006.gif").is_file() and (run / "best.pt").is_file()
    gif = sample_clips(run, tmp_path / "clips.gif", n=4)
    from PIL import Image

    with Image.open(gif) as picture:
        assert picture.n_frames == 8
    mp4 = sample_clips(run, tmp_path / "clips.mp4", n=4)
    from atelier.video.io import probe

    assert probe(mp4).frames == 8
    with pytest.raises(InputError, match=r"\.gif or \.mp4"):
        sample_clips(run, tmp_path / "clips.png")
    with pytest.raises(InputError, match="does not exist"):
        sample_clips(run, tmp_path / "no-folder" / "clips.gif")


def test_grid_frames_layout() -> None:
    clips = torch.zeros(5, 3, 4, 8, 8)
    clips[1] = 1
    frames = clip_grid_frames(clips, scale=1)
    assert len(frames) == 4 and frames[0].shape == (2 * 10 + 2, 3 * 10 + 2, 3)  # 5 clips: 3 columns, 2 rows
    assert frames[0][2:10, 12:20].min() == 255 and frames[0][2:10, 2:10].max() == 0


def test_cli_train_sample_evaluate(tmp_path: Path, videos: Path) -> None:
    cli = [sys.executable, "-m", "atelier", "video-gan"]
    run = tmp_path / "run"
    trained = subprocess.run([*cli, "train", str(videos), "--out", str(run), "--steps", "2", "--frames", "8", "--batch", "4", "--json"],
                             capture_output=True, text=True)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["steps"] == 2 and "skipped" in trained.stderr
    sampled = subprocess.run([*cli, "sample", str(run), "-o", str(tmp_path / "s.gif"), "-n", "4"], capture_output=True, text=True)
    assert sampled.returncode == 0 and (tmp_path / "s.gif").is_file()
    evaluated = subprocess.run([*cli, "evaluate", str(run), str(videos), "-n", "8", "--json"], capture_output=True, text=True)
    result = json.loads(evaluated.stdout)
    assert result["clips"] == 8 and result["untrained_fd_frames"] > 0 and result["fd_motion"] >= 0
    missing = subprocess.run([*cli, "sample", str(tmp_path / "nope"), "-o", str(tmp_path / "x.gif")], capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
