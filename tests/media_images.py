"""Pictures made with Pillow for the media tests: plain, with GPS in EXIF, and large ones."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def picture(fmt: str = "PNG", size: tuple[int, int] = (64, 48),
            color: tuple[int, int, int] = (200, 30, 40), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Spyphone"
    if orientation != 1:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (59.0, 22.0, 44.0), 3: "E", 4: (13.0, 30.0, 12.0)})
    return exif


def jpeg_with_gps(size: tuple[int, int] = (80, 40), orientation: int = 1) -> bytes:
    """A JPEG that gives away where it was taken (and, optionally, is stored sideways)."""
    out = io.BytesIO()
    image = Image.new("RGB", size, (10, 120, 200))
    image.paste((250, 250, 0), (0, 0, size[0] // 2, size[1] // 2))
    image.save(out, "JPEG", exif=exif_with_gps(orientation), quality=90)
    return out.getvalue()


def noise(megabytes: float, fmt: str = "PNG", seed: int = 1) -> bytes:
    """A picture of random pixels, which no format can compress: about `megabytes` large."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, fmt, compress_level=1)
    else:
        image.save(out, fmt, quality=100)
    return out.getvalue()


def png_bomb(side: int = 40000) -> bytes:
    """A tiny PNG whose header claims side × side pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))
