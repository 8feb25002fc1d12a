"""Render the simulator's results: a real H.264 MP4 and a JPEG cover from the input images.

img2video makes a slow camera move (zoom in and pan) over the first frame; start-end2video
blends from the start frame to the end frame. The MP4 is yuv420p with the moov atom in
front (`+faststart`) so browsers play it while it loads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps

RESOLUTION_HEIGHTS = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}
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
    """Height from the resolution, width from the source's aspect ratio; both even."""
    height = RESOLUTION_HEIGHTS.get(resolution, 720)
    width = max(2, round(height * source[0] / source[1] / 2) * 2)
    return width, height


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


def encode(frames, path: Path, size: tuple[int, int], fps: int) -> int:
    """Write frames as H.264 yuv420p MP4; returns the number of frames written."""
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
        for image in frames:
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = written
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
            written += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return written


def render(
    images: list[bytes], *, duration: int, resolution: str, fps: int, out_dir: Path
) -> Rendered:
    """Render `video.mp4` and `cover.jpg` into `out_dir`: one image moves, two blend."""
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

    written = encode(frames_with_cover(), partial, size, fps)
    partial.replace(video_path)  # readers never see a half-written file
    return Rendered(video_path, cover_path, size[0], size[1], written, fps)
