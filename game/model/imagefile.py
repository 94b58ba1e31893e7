"""Reading a player's image file (PNG, JPEG, GIF, BMP, WebP) safely, with pygame.

``read_image(path)`` returns the pixels as uint8 ``(H, W, 4)`` RGBA, or raises
:class:`ImageFileError` with one sentence naming the file and what is wrong:

* missing, a folder, empty, unreadable, or over ``MAX_FILE_BYTES``;
* not an image of a readable format (a TIFF, HEIC, PDF or SVG is named as such);
* huge: more than ``MAX_SIDE_PX`` per side or ``MAX_PIXELS`` in all, judged from the header
  **before** anything is decoded (a 100000 x 100000 PNG header costs nothing to reject);
* animated (a GIF with several frames, an APNG, an animated WebP): which frame is meant?
* 16 bits per channel (PNG) or 12-bit JPEG, and CMYK / YCCK JPEGs (print colours, whose
  decoding differs between libraries): the sentence says how to re-save the file;
* a PNG or JPEG that ends early (no IEND chunk / EOI marker: decoders would quietly fill in
  the missing part), and a file whose header is fine but whose data cannot be decoded.

The header is parsed here (:func:`sniff`, pure bytes -> :class:`ImageInfo`); only a file
that passes is handed to ``pygame.image.load``. Torch-free; needs no display.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame

MAX_FILE_BYTES = 64 * 1024 * 1024  # larger files are refused unread
MAX_SIDE_PX = 16384  # longest side an image may have
MAX_PIXELS = 50_000_000  # width x height (a 48 MP phone photo fits; 200 MB as RGBA)
READABLE = "PNG, JPEG, GIF, BMP and WebP"

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageFileError(ValueError):
    """An image file cannot be used (one-sentence message naming the file)."""


@dataclass(frozen=True)
class ImageInfo:
    """What a file's header says, before any decoding."""

    format: str  # "PNG" | "JPEG" | "GIF" | "BMP" | "WebP"
    width: int  # px
    height: int  # px
    frames: int = 1  # > 1: animated
    bits: int = 8  # bits per channel
    channels: int = 3  # colour components as stored (JPEG: 4 = CMYK / YCCK)


def sniff(data: bytes, name: str = "image") -> ImageInfo:
    """Parse the header of an image file's bytes; raises ImageFileError (one sentence) when
    they are not a readable image format or the header is broken."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(data, name)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data, name)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data, name)
    if data[:2] == b"BM":
        return _bmp(data, name)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data, name)
    other = _foreign_format(data)
    if other:
        raise ImageFileError(f"{name} is {other}, which Latent Odyssey cannot read; save it as PNG or JPEG.")
    raise ImageFileError(f"{name} is not an image (Latent Odyssey reads {READABLE} files).")


def _foreign_format(data: bytes) -> str:
    """A name for a recognisable format that pygame is not asked to read, else ''."""
    head = data[:512].lstrip()
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"hevc"):
        return "a HEIC/AVIF image"
    if data[:5] == b"%PDF-":
        return "a PDF document"
    if head[:5].lower() == b"<?xml" and b"<svg" in data[:4096].lower() or head[:4].lower() == b"<svg":
        return "an SVG drawing"
    return ""


def _broken(name: str, fmt: str) -> ImageFileError:
    return ImageFileError(f"{name} starts like a {fmt} file but its header is broken.")


def _png(data: bytes, name: str) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise _broken(name, "PNG")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    frames = 1
    pos = 8
    while pos + 8 <= len(data):  # walk the chunks up to the image data: acTL comes before IDAT
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"acTL" and length >= 8 and pos + 16 <= len(data):
            frames = max(1, struct.unpack(">I", data[pos + 8 : pos + 12])[0])
        if kind in (b"IDAT", b"IEND"):
            break
        pos += 12 + length
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(colour, 3)
    return ImageInfo("PNG", width, height, frames, depth, channels)


def _jpeg(data: bytes, name: str) -> ImageInfo:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise _broken(name, "JPEG")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 10 > len(data):
                break
            bits, height, width, channels = struct.unpack(">BHHB", data[pos + 4 : pos + 10])
            return ImageInfo("JPEG", width, height, 1, bits, channels)
        pos += 2 + length
    raise _broken(name, "JPEG")


def _gif(data: bytes, name: str) -> ImageInfo:
    if len(data) < 13:
        raise _broken(name, "GIF")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    frames = 0

    def skip_blocks(p: int) -> int:
        while p < len(data) and data[p] != 0:
            p += 1 + data[p]
        return p + 1

    while pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            pos = skip_blocks(pos + 2)
        elif block == 0x2C:  # image descriptor (+ local colour table, LZW size, data)
            if pos + 10 > len(data):
                break
            frames += 1
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            pos = skip_blocks(pos + 1)
        else:
            break
    return ImageInfo("GIF", width, height, max(1, frames))


def _bmp(data: bytes, name: str) -> ImageInfo:
    if len(data) < 26:
        raise _broken(name, "BMP")
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:
        width, height = struct.unpack("<HH", data[18:22])
    elif header >= 40 and len(data) >= 30:
        width, height = struct.unpack("<ii", data[18:26])
    else:
        raise _broken(name, "BMP")
    return ImageInfo("BMP", abs(width), abs(height))


def _webp(data: bytes, name: str) -> ImageInfo:
    pos, width, height, frames = 12, 0, 0, 1
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"VP8X" and len(body) >= 10:
            if body[0] & 0x02:
                frames = max(frames, 2)
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
        elif kind == b"ANMF":
            frames = frames + 1 if frames > 1 else 2
        elif kind == b"VP8 " and len(body) >= 10 and not width:
            width, height = (v & 0x3FFF for v in struct.unpack("<HH", body[6:10]))
        elif kind == b"VP8L" and len(body) >= 5 and not width:
            bits = int.from_bytes(body[1:5], "little")
            width, height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        pos += 8 + size + (size & 1)
    if not width:
        raise _broken(name, "WebP")
    return ImageInfo("WebP", width, height, frames)


def check_info(info: ImageInfo, name: str) -> None:
    """Refuse what the header already shows to be unusable (one sentence each)."""
    w, h = info.width, info.height
    if w <= 0 or h <= 0:
        raise ImageFileError(f"{name} is a {info.format} image of {w}x{h} pixels, which holds nothing to encode.")
    if w > MAX_SIDE_PX or h > MAX_SIDE_PX or w * h > MAX_PIXELS:
        raise ImageFileError(
            f"{name} is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels), more than the "
            f"{MAX_PIXELS / 1e6:.0f} megapixels (and {MAX_SIDE_PX} px per side) allowed; scale it down first."
        )
    if info.frames > 1:
        kind = {"PNG": "an animated PNG (APNG)", "GIF": "an animated GIF", "WebP": "an animated WebP"}[info.format]
        count = f" with {info.frames} frames" if info.format != "WebP" else ""
        raise ImageFileError(f"{name} is {kind}{count}; save the one frame you want as a still image.")
    if info.bits > 8:
        raise ImageFileError(
            f"{name} is a {info.bits}-bit-per-channel {info.format}; save it with 8 bits per channel."
        )
    if info.format == "JPEG" and info.channels == 4:
        raise ImageFileError(f"{name} is a CMYK JPEG (print colours); save it in RGB.")


def check_complete(data: bytes, info: ImageInfo, name: str) -> None:
    """Refuse a PNG or JPEG whose end is missing (a cut-off download or copy)."""
    if info.format == "PNG":
        ended = b"IEND" in data[-4096:]  # the last chunk (a few tools append a little after it)
    elif info.format == "JPEG":  # an end-of-image marker after the last scan (cameras may append data)
        ended = data.find(b"\xff\xd9", max(0, data.rfind(b"\xff\xda"))) >= 0
    else:
        ended = True
    if not ended:
        raise ImageFileError(f"{name} is a {info.format} file that ends early (truncated): part of the picture is missing.")


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C decoders' own messages on file descriptor 2 ("libpng error: ..."): the
    ImageFileError says what went wrong, in one sentence."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or ImageFileError: missing, a folder, empty, too big, unreadable."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ImageFileError(f"{path} is a folder, not an image file.")
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageFileError(f"Image file {path} does not exist.") from None
    except OSError as exc:
        raise ImageFileError(f"Image file {path} cannot be read ({exc.strerror or exc}).") from None
    if size == 0:
        raise ImageFileError(f"Image file {path} is empty.")
    if size > MAX_FILE_BYTES:
        raise ImageFileError(
            f"Image file {path} is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES // 2**20} MB allowed."
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageFileError(f"Image file {path} cannot be read ({exc.strerror or exc}).") from None


def decode(data: bytes, info: ImageInfo, name: str) -> np.ndarray:
    """Decode checked bytes with pygame.  -> uint8 (H, W, 4) RGBA"""
    try:
        with _quiet_stderr():
            surface = pygame.image.load(io.BytesIO(data), f"x.{info.format.lower()}")
        w, h = surface.get_size()
        raw = pygame.image.tobytes(surface, "RGBA")
    except (pygame.error, ValueError, MemoryError, OSError) as exc:
        reason = str(exc).strip().rstrip(".") or type(exc).__name__
        raise ImageFileError(f"{name} is a {info.format} file that cannot be decoded ({reason}).") from None
    if (w, h) != (info.width, info.height) or w * h == 0:
        raise ImageFileError(f"{name} is a {info.format} file that cannot be decoded (its size is inconsistent).")
    return np.frombuffer(raw, np.uint8).reshape(h, w, 4).copy()


def read_image(path: Path | str) -> np.ndarray:
    """Read, check and decode an image file.  -> uint8 (H, W, 4) RGBA

    Raises ImageFileError with one sentence for every way a file can be unusable.
    """
    path = Path(path)
    data = read_bytes(path)
    info = sniff(data, str(path))
    check_info(info, str(path))
    check_complete(data, info, str(path))
    return decode(data, info, str(path))
