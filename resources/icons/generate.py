"""Generate the app icon's PNG sizes and the Windows ICO from mapiprobe.svg (run after editing the SVG).

    python resources/icons/generate.py

PNGs are rendered with Qt's own SVG renderer (PySide6's QtSvg, already a dependency); the ICO holds the
PNG images as they are (the PNG-in-ICO form Windows has read since Vista), so no imaging library is needed.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file (ICONDIR + ICONDIRENTRY per image) whose images are PNG data."""
    count = len(images)
    out = struct.pack("<HHH", 0, 1, count)
    offset = 6 + 16 * count
    blobs = []
    for size, png in sorted(images.items()):
        dim = 0 if size >= 256 else size  # 0 means 256
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        blobs.append(png)
    return out + b"".join(blobs)


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = HERE / "mapiprobe.svg"
    images = {size: render(svg, size) for size in SIZES}
    for size, png in images.items():
        (HERE / f"mapiprobe-{size}.png").write_bytes(png)
    (HERE / "mapiprobe.ico").write_bytes(ico(images))
    del app
    print(f"wrote {len(images)} PNGs and mapiprobe.ico in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
