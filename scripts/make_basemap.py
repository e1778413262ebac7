"""Build the corridor map's basemap: ``src/silkroute_sim/outputs/data/countries.json``.

A one-off conversion, kept so that the shipped file can be rebuilt and checked. The source
is Natural Earth's 1:110m admin-0 countries (public domain, naturalearthdata.com), as shipped
in the geopandas 0.14.4 wheel on PyPI (``geopandas/datasets/naturalearth_lowres``)::

    pip download geopandas==0.14.4 --no-deps -d /tmp/gpd
    python scripts/make_basemap.py /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

The script reads the shapefile itself (polygons and the dBASE attribute table: no geopandas,
shapely or pyshp needed), keeps the countries that touch the corridor's bounding box, clips
their rings to it (Sutherland–Hodgman against the rectangle), simplifies them
(Douglas–Peucker, :data:`TOLERANCE_DEG`) and writes longitude/latitude rounded to 0.01°.
The package reads the result at run time; nothing is downloaded then.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import struct
import zipfile
from pathlib import Path

#: lon_min, lon_max, lat_min, lat_max: every corridor node (Duisburg to Urumqi, the
#: Caspian and Black Sea ports) with a margin
BBOX = (-2.0, 100.0, 25.0, 64.0)
TOLERANCE_DEG = 0.04
MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
OUT = Path(__file__).resolve().parents[1] / "src/silkroute_sim/outputs/data/countries.json"

Point = tuple[float, float]


def read_dbf(data: bytes) -> list[dict[str, str]]:
    """The records of a dBASE III table as strings."""
    n_records, header_len, record_len = struct.unpack("<xxxxIHH", data[:12])
    fields = []
    for i in range((header_len - 33) // 32):
        raw = data[32 + 32 * i : 64 + 32 * i]
        name = raw[:11].split(b"\0", 1)[0].decode("ascii")
        fields.append((name, raw[16]))
    rows = []
    for r in range(n_records):
        rec = data[header_len + r * record_len : header_len + (r + 1) * record_len]
        pos, row = 1, {}
        for name, size in fields:
            row[name] = rec[pos : pos + size].decode("utf-8", "replace").strip()
            pos += size
        rows.append(row)
    return rows


def read_polygons(data: bytes) -> list[list[list[Point]]]:
    """The rings of each record of a polygon shapefile (shape type 5)."""
    pos, shapes = 100, []
    while pos < len(data):
        _, length = struct.unpack(">II", data[pos : pos + 8])
        content = data[pos + 8 : pos + 8 + 2 * length]
        pos += 8 + 2 * length
        kind = struct.unpack("<i", content[:4])[0]
        if kind != 5:
            shapes.append([])
            continue
        n_parts, n_points = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", content[44 : 44 + 4 * n_parts]))
        start = 44 + 4 * n_parts
        coords = struct.unpack(f"<{2 * n_points}d", content[start : start + 16 * n_points])
        points = list(zip(coords[0::2], coords[1::2], strict=True))
        bounds = [*parts, n_points]
        shapes.append([points[a:b] for a, b in itertools.pairwise(bounds)])
    return shapes


def clip(ring: list[Point], box: tuple[float, float, float, float]) -> list[Point]:
    """Sutherland–Hodgman: ``ring`` clipped to the rectangle ``box``."""
    x0, x1, y0, y1 = box
    edges = [
        (lambda p: p[0] >= x0, lambda a, b: _cut_x(a, b, x0)),
        (lambda p: p[0] <= x1, lambda a, b: _cut_x(a, b, x1)),
        (lambda p: p[1] >= y0, lambda a, b: _cut_y(a, b, y0)),
        (lambda p: p[1] <= y1, lambda a, b: _cut_y(a, b, y1)),
    ]
    out = ring
    for inside, cut in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
            prev = cur
    return out


def _cut_x(a: Point, b: Point, x: float) -> Point:
    t = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + t * (b[1] - a[1])


def _cut_y(a: Point, b: Point, y: float) -> Point:
    t = (y - a[1]) / (b[1] - a[1])
    return a[0] + t * (b[0] - a[0]), y


def simplify(points: list[Point], tol: float) -> list[Point]:
    """Douglas–Peucker simplification of an open polyline."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    dx, dy = bx - ax, by - ay
    norm = math.hypot(dx, dy)
    best, index = -1.0, 0
    for i in range(1, len(points) - 1):
        px, py = points[i]
        dist = (
            abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if norm
            else math.hypot(px - ax, py - ay)
        )
        if dist > best:
            best, index = dist, i
    if best <= tol:
        return [points[0], points[-1]]
    return simplify(points[: index + 1], tol)[:-1] + simplify(points[index:], tol)


def convert(wheel: Path) -> dict[str, object]:
    with zipfile.ZipFile(wheel) as zf:
        shp = zf.read(MEMBER + ".shp")
        dbf = zf.read(MEMBER + ".dbf")
    records = read_dbf(io.BytesIO(dbf).getvalue())
    countries = []
    for record, rings in zip(records, read_polygons(shp), strict=True):
        kept = []
        for ring in rings:
            cut = clip(ring, BBOX)
            if len(cut) < 3:
                continue
            small = simplify([*cut, cut[0]], TOLERANCE_DEG)[:-1]
            rounded = [[round(x, 2), round(y, 2)] for x, y in small]
            if len(rounded) >= 3:
                kept.append(rounded)
        if kept:
            countries.append({"name": record["name"], "iso_a3": record["iso_a3"], "rings": kept})
    countries.sort(key=lambda c: str(c["name"]))
    return {
        "source": "Natural Earth 1:110m admin-0 countries (public domain), via the "
        "geopandas 0.14.4 wheel (datasets/naturalearth_lowres); clipped, simplified "
        "by scripts/make_basemap.py",
        "bbox": list(BBOX),
        "countries": countries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="geopandas-0.14.4-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = convert(args.wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    n = sum(len(r) for c in data["countries"] for r in c["rings"])  # type: ignore[union-attr]
    print(f"{args.out}: {len(data['countries'])} countries, {n} points")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
