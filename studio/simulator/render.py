"""Render the simulator's results: a real H.264 MP4 and a JPEG cover from the input images.

img2video makes a slow camera move (zoom in and pan) over the first frame; start-end2video
blends from the start frame to the end frame. The MP4 is yuv420p with the moov atom in
front (`+faststart`) so browsers play it while it loads. A video asked for with sound (or
background music) carries an AAC track: a soft chord, so players show and play sound.

The frame follows Vidu's sizes: the resolution names the short side (720p is 1280x720 in
landscape, 720x1280 in portrait) and the shape is the documented aspect ratio nearest the
first frame's: 16:9, 4:3, 1:1, 3:4 or 9:16. The picture is fitted to that frame and cropped
at the centre, as Vidu does with an input whose shape is in between.
"""

from __future__ import annotations

import io
import math
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps

RESOLUTION_HEIGHTS = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}
# The aspect ratios Vidu makes videos in, as (width, height).
ASPECT_RATIOS = ((16, 9), (4, 3), (1, 1), (3, 4), (9, 16))
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 1024  # AAC's frame size
CHORD = (220.0, 277.18, 329.63)  # A major, quiet: enough to show the track is there
ZOOM = 0.18  # the camera ends this much closer than it starts
PAN = 0.35  # share of the spare margin the camera drifts across
COVER_QUALITY = 85


@dataclass(frozen=True)
class Rendered:
    video: Path
    cover: Path
    width: int
    height: int
    frames: int
    fps: int


def open_image(data: bytes) -> Image.Image:
    """The picture as the viewer sees it: EXIF orientation applied, in RGB."""
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    if image.mode != "RGB":
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, (0, 0, 0))
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        else:
            image = image.convert("RGB")
    return image


def output_size(source: tuple[int, int], resolution: str) -> tuple[int, int]:
    """Vidu's frame for this resolution and the source's shape: the short side from the
    resolution, the long side from the documented aspect ratio nearest the source's."""
    short = RESOLUTION_HEIGHTS.get(resolution, 720)
    shape = math.log(source[0] / source[1])
    wide, high = min(ASPECT_RATIOS, key=lambda ratio: abs(math.log(ratio[0] / ratio[1]) - shape))
    if wide >= high:
        return _even(short * wide / high), short
    return short, _even(short * high / wide)


def _even(length: float) -> int:
    return max(2, round(length / 2) * 2)


def _cover_fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop to exactly `size`, keeping the aspect ratio."""
    return ImageOps.fit(image, size, method=Image.Resampling.BICUBIC)


def camera_move_frames(image: Image.Image, size: tuple[int, int], count: int):
    """A gentle zoom-in with a slight pan: crop a shrinking box and scale it to `size`."""
    width, height = size
    # Work from a copy a little larger than the output so the zoom keeps detail.
    base_w, base_h = round(width * (1 + ZOOM)), round(height * (1 + ZOOM))
    base = _cover_fit(image, (base_w, base_h))
    for index in range(count):
        t = index / max(1, count - 1)
        ease = t * t * (3 - 2 * t)  # smoothstep: starts and ends gently
        scale = 1 - ZOOM * ease / (1 + ZOOM)
        box_w, box_h = base_w * scale, base_h * scale
        spare_w, spare_h = base_w - box_w, base_h - box_h
        # Drift from the centre towards the upper right as the camera moves in.
        x0 = spare_w / 2 + spare_w / 2 * PAN * ease
        y0 = spare_h / 2 - spare_h / 2 * PAN * ease
        box = (x0, y0, x0 + box_w, y0 + box_h)
        yield base.resize(size, Image.Resampling.BILINEAR, box=box)


def blend_frames(start: Image.Image, end: Image.Image, size: tuple[int, int], count: int):
    """A cross-fade from the start frame to the end frame."""
    first, last = _cover_fit(start, size), _cover_fit(end, size)
    for index in range(count):
        t = index / max(1, count - 1)
        ease = t * t * (3 - 2 * t)
        yield Image.blend(first, last, ease)


def encode(frames, path: Path, size: tuple[int, int], fps: int, *, sound: bool = False) -> int:
    """Write frames as H.264 yuv420p MP4, with an AAC track when `sound`; returns the
    number of frames written."""
    written = 0
    with av.open(
        str(path), mode="w", format="mp4", container_options={"movflags": "+faststart"}
    ) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        time_base = Fraction(1, fps)  # the muxer later changes stream.time_base
        stream.time_base = time_base
        stream.options = {"preset": "ultrafast", "tune": "stillimage", "crf": "23"}
        # Every stream is declared before the first packet is written.
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if sound else None
        for image in frames:
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = written
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
            written += 1
        for packet in stream.encode(None):
            container.mux(packet)
        if audio is not None:
            _encode_sound(container, audio, written / fps)
    return written


def _encode_sound(container, stream, seconds: float) -> None:
    """A soft chord as long as the video, fading in and out, into the AAC `stream`."""
    total = int(seconds * AUDIO_RATE)
    fade = max(1, min(AUDIO_RATE // 2, total // 4))
    for start in range(0, total, AUDIO_SAMPLES):
        count = min(AUDIO_SAMPLES, total - start)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(_chord(start, count, total, fade).tobytes())
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _chord(start: int, count: int, total: int, fade: int) -> array:
    """`count` float samples of the chord from sample `start`, faded at both ends."""
    samples = array("f")
    for index in range(start, start + count):
        t = index / AUDIO_RATE
        wave = sum(math.sin(2 * math.pi * pitch * t) for pitch in CHORD) / len(CHORD)
        samples.append(0.2 * wave * min(1.0, index / fade, (total - index) / fade))
    return samples


def render(
    images: list[bytes],
    *,
    duration: int,
    resolution: str,
    fps: int,
    out_dir: Path,
    sound: bool = False,
) -> Rendered:
    """Render `video.mp4` and `cover.jpg` into `out_dir`: one image moves, two blend; a
    video with `sound` carries an audio track."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = [open_image(data) for data in images]
    size = output_size(pictures[0].size, resolution)
    count = max(1, int(duration * fps))
    if len(pictures) >= 2:
        frames = blend_frames(pictures[0], pictures[1], size, count)
    else:
        frames = camera_move_frames(pictures[0], size, count)

    cover_path = out_dir / "cover.jpg"
    video_path = out_dir / "video.mp4"
    partial = out_dir / "video.mp4.part"

    def frames_with_cover():
        for index, image in enumerate(frames):
            if index == 0:
                image.save(cover_path, "JPEG", quality=COVER_QUALITY)
            yield image

    written = encode(frames_with_cover(), partial, size, fps, sound=sound)
    partial.replace(video_path)  # readers never see a half-written file
    return Rendered(video_path, cover_path, size[0], size[1], written, fps)
