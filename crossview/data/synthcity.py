"""SynthCity: a procedural paired dataset of aerial tiles and street-level panoramas.

Every index is one random 3D scene, deterministic in (seed, index), seen twice:

* aerial: orthographic, top-down, north up, centred on the camera;
* ground: equirectangular 360-degree panorama taken by a camera ``camera_height_m`` above a road at the
  tile centre, north at the image centre, azimuth growing clockwise (north -> east -> south -> west).

World frame: x east, y north, z up, metres; the camera stands at (0, 0, camera_height_m).
The scene is analytic (ground function, oriented boxes, spheres, cylinders), so both views are exact
renders of the same geometry: roads, footprints and tree positions line up between the views, roofs are
seen only from above and facades only from the ground. Rendering is vectorised NumPy ray casting.

Run ``python -m crossview.data.synthcity --help`` for the command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from crossview.checkpoint import atomic_file, write_json_atomic
from crossview.data.pairs import parse_size, write_split_csv

log = logging.getLogger(__name__)

GENERATOR_VERSION = "synthcity-1.0"

# One class table for both views; ids are the pixel values of the label maps.
CLASSES: dict[str, int] = {
    "sky": 0,
    "road": 1,
    "lane_mark": 2,
    "sidewalk": 3,
    "grass": 4,
    "parking": 5,
    "roof": 6,
    "facade": 7,
    "window": 8,
    "tree": 9,
}
SKY, ROAD, LANE, SIDEWALK, GRASS, PARKING, ROOF, FACADE, WINDOW, TREE = range(10)

EPS = 1e-4  # self-intersection guard for rays, metres


@dataclass(frozen=True)
class SynthCityConfig:
    """Sizes and camera geometry of a SynthCity render (defaults: the demo preset)."""

    aerial_size: tuple[int, int] = (128, 128)  # H, W
    ground_size: tuple[int, int] = (64, 256)  # H, W; W covers 360 degrees
    tile_meters: float = 64.0  # side of the aerial tile
    camera_height_m: float = 2.0
    # North at the image centre: the left edge of column 0 faces south.
    azimuth_at_column_0_deg: float = 180.0

    @property
    def aerial_meters_per_pixel(self) -> float:
        return self.tile_meters / self.aerial_size[1]

    @property
    def ground_elevation_range_deg(self) -> tuple[float, float]:
        """Square pixels: the vertical field of view is 360 * H / W, centred on the horizon."""
        half = 180.0 * self.ground_size[0] / self.ground_size[1]
        return (-half, half)

    @classmethod
    def from_geometry(cls, meta: dict) -> SynthCityConfig:
        """The config whose ``geometry()`` a SynthCity folder's meta.json records."""
        return cls(aerial_size=tuple(meta["aerial_size"]), ground_size=tuple(meta["ground_size"]),
                   tile_meters=meta["tile_meters"], camera_height_m=meta["camera_height_m"],
                   azimuth_at_column_0_deg=meta["azimuth_at_column_0_deg"])

    def geometry(self) -> dict:
        """The keys meta.json documents, enough to project one view into the other."""
        return {
            "aerial_size": list(self.aerial_size),
            "ground_size": list(self.ground_size),
            "aerial_meters_per_pixel": self.aerial_meters_per_pixel,
            "tile_meters": self.tile_meters,
            "camera_height_m": self.camera_height_m,
            "ground_elevation_range_deg": list(self.ground_elevation_range_deg),
            "azimuth_at_column_0_deg": self.azimuth_at_column_0_deg,
            "azimuth_direction": "clockwise",
            "conventions": (
                "World frame: x east, y north, z up, metres; camera at (0, 0, camera_height_m). "
                "Aerial: orthographic, north up; pixel (row r, col c) has its centre at "
                "x = (c + 0.5 - W/2) * aerial_meters_per_pixel, y = (H/2 - r - 0.5) * aerial_meters_per_pixel. "
                "Ground: equirectangular; column c's centre looks at azimuth "
                "azimuth_at_column_0_deg + (c + 0.5) * 360 / W degrees (0 = north, growing clockwise), "
                "row r's centre at elevation top - (r + 0.5) * (top - bottom) / H degrees, "
                "[bottom, top] = ground_elevation_range_deg. Azimuth a, elevation e give the ray "
                "(cos e sin a, cos e cos a, sin e)."
            ),
        }


# --------------------------------------------------------------------------------------------------
# Scene description


@dataclass
class Road:
    """A road centre line: an infinite line, a ray (a side street starting at ``origin``) or a circle."""

    kind: str  # "line" | "ray" | "circle"
    origin: tuple[float, float]  # a point on the line, the ray's start, or the circle's centre
    heading: float = 0.0  # radians from +x, counter-clockwise (line and ray)
    radius: float = 0.0  # circle
    width: float = 8.0


@dataclass
class Box:
    """An oriented building block: centre, heading of its local x axis, half extents, height."""

    center: tuple[float, float]
    heading: float
    half: tuple[float, float]
    height: float
    building: int  # index into Scene.buildings (wings share their building's colours)


@dataclass
class Building:
    roof_color: np.ndarray
    facade_color: np.ndarray
    window_color: np.ndarray
    floor_height: float
    window_spacing: float
    roof_style: str  # "flat" | "hipped" (hipped only changes the aerial shading)


@dataclass
class Tree:
    center: tuple[float, float]
    crown_radius: float
    trunk_height: float
    color: np.ndarray


@dataclass
class Palette:
    grass: np.ndarray
    asphalt: np.ndarray
    sidewalk: np.ndarray
    parking: np.ndarray
    lane: np.ndarray
    trunk: np.ndarray
    sky_zenith: np.ndarray
    sky_horizon: np.ndarray
    ambient: float
    diffuse: float
    fog_meters: float


@dataclass
class Scene:
    palette: Palette
    sun: np.ndarray  # unit vector towards the sun
    roads: list[Road]
    sidewalk_width: float
    dash_period: float
    parking_lots: list[Box]  # boxes of height 0
    boxes: list[Box]
    buildings: list[Building]
    trees: list[Tree]
    noise_phase: np.ndarray = field(default_factory=lambda: np.zeros(4))


def _jitter(rng: np.random.Generator, rgb, amount: float = 0.08) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float32) * rng.uniform(1 - amount, 1 + amount)
    return np.clip(c + rng.uniform(-amount / 2, amount / 2, 3), 0, 1).astype(np.float32)


GRASS_COLORS = [(0.30, 0.48, 0.20), (0.40, 0.50, 0.24), (0.52, 0.52, 0.30), (0.24, 0.40, 0.21), (0.45, 0.44, 0.28)]
ROOF_COLORS = [(0.62, 0.30, 0.22), (0.35, 0.35, 0.37), (0.62, 0.62, 0.60), (0.45, 0.33, 0.25),
         (0.38, 0.45, 0.40), (0.30, 0.36, 0.48), (0.75, 0.72, 0.66)]
FACADE_COLORS = [(0.85, 0.80, 0.68), (0.90, 0.90, 0.88), (0.62, 0.30, 0.24), (0.60, 0.60, 0.62),
           (0.88, 0.78, 0.50), (0.62, 0.72, 0.80), (0.72, 0.55, 0.42)]
WINDOW_COLOR = (0.16, 0.20, 0.26)
FLOOR_HEIGHT_M = (2.9, 3.6)  # uniform ranges of sample_scene's draws, shared with redraw_unseen
ROOF_ALLOWANCE_M = (0.3, 1.2)  # height above the top floor
WINDOW_SPACING_M = (2.2, 3.5)
FOG_M = (150, 400)
TREE_COLORS = [(0.18, 0.36, 0.14), (0.24, 0.42, 0.16), (0.30, 0.40, 0.18), (0.16, 0.30, 0.16)]


def sky_colours(overcast: float) -> tuple[np.ndarray, np.ndarray]:
    """The sky's zenith and horizon colours before their jitter, from clear (0) to overcast (1)."""
    zenith = (1 - overcast) * np.array([0.22, 0.42, 0.80]) + overcast * np.array([0.58, 0.62, 0.68])
    horizon = (1 - overcast) * np.array([0.70, 0.80, 0.92]) + overcast * np.array([0.78, 0.80, 0.82])
    return zenith, horizon


def _random_palette(rng: np.random.Generator) -> Palette:
    overcast = rng.uniform(0, 1)
    asphalt = rng.uniform(0.22, 0.42)
    zenith, horizon = sky_colours(overcast)
    return Palette(
        grass=_jitter(rng, GRASS_COLORS[rng.integers(len(GRASS_COLORS))]),
        asphalt=_jitter(rng, (asphalt, asphalt, asphalt * rng.uniform(0.95, 1.1)), 0.04),
        sidewalk=_jitter(rng, (0.66, 0.64, 0.60), 0.1),
        parking=_jitter(rng, (asphalt + 0.08, asphalt + 0.08, asphalt + 0.1), 0.04),
        lane=np.array((0.92, 0.92, 0.90) if rng.uniform() < 0.7 else (0.90, 0.78, 0.25), np.float32),
        trunk=_jitter(rng, (0.32, 0.24, 0.16)),
        sky_zenith=_jitter(rng, zenith, 0.05),
        sky_horizon=_jitter(rng, horizon, 0.04),
        ambient=float(0.45 + 0.2 * overcast),
        diffuse=float(0.75 - 0.45 * overcast),
        fog_meters=float(rng.uniform(*FOG_M)),
    )


# --------------------------------------------------------------------------------------------------
# Road geometry: distance to the centre line and position along it, for any array of points


def road_coords(road: Road, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (unsigned distance to the centre line, arc length along it) at points (x, y)."""
    ox, oy = road.origin
    if road.kind == "circle":
        dx, dy = x - ox, y - oy
        rho = np.hypot(dx, dy)
        return np.abs(rho - road.radius), road.radius * np.arctan2(dy, dx)
    cx, cy = math.cos(road.heading), math.sin(road.heading)
    along = (x - ox) * cx + (y - oy) * cy
    across = np.abs(-(x - ox) * cy + (y - oy) * cx)
    if road.kind == "ray":  # a side street: the half-line along >= 0
        behind = along < 0
        across = np.where(behind, np.hypot(x - ox, y - oy), across)
    return across, along


def road_heading_at(road: Road, x: float, y: float) -> float:
    """Heading (radians) of the road's tangent at its point nearest to (x, y)."""
    if road.kind == "circle":
        return math.atan2(y - road.origin[1], x - road.origin[0]) + math.pi / 2
    return road.heading


def _point_on_road(road: Road, s: float) -> tuple[float, float]:
    """The centre-line point at arc length s."""
    ox, oy = road.origin
    if road.kind == "circle":
        a = s / road.radius
        return ox + road.radius * math.cos(a), oy + road.radius * math.sin(a)
    return ox + s * math.cos(road.heading), oy + s * math.sin(road.heading)


def _arc_position_of(road: Road, x: float, y: float) -> float:
    return float(road_coords(road, np.array([x]), np.array([y]))[1][0])


# --------------------------------------------------------------------------------------------------
# Scene sampling


def _box_corners(center, heading, half) -> np.ndarray:
    c, s = math.cos(heading), math.sin(heading)
    ax, ay = np.array([c, s]) * half[0], np.array([-s, c]) * half[1]
    p = np.asarray(center)
    return np.array([p + ax + ay, p + ax - ay, p - ax - ay, p - ax + ay])


def _boxes_overlap(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    """Separating-axis test of two convex quadrilaterals given by their corners."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]]) / (np.linalg.norm(edge) + 1e-9)
            pa, pb = a @ axis, b @ axis
            if pa.max() + margin < pb.min() or pb.max() + margin < pa.min():
                return False
    return True


def _clear_of_roads(scene: Scene, pts: np.ndarray, margin: float) -> bool:
    for road in scene.roads:
        d, _ = road_coords(road, pts[:, 0], pts[:, 1])
        if np.any(d < road.width / 2 + scene.sidewalk_width + margin):
            return False
    return True


def _sample_points(corners: np.ndarray) -> np.ndarray:
    """Corners, edge midpoints, quarter points and centre of a footprint, for clearance tests."""
    pts = [corners, (corners + np.roll(corners, -1, 0)) / 2, corners.mean(0, keepdims=True)]
    pts.append((corners * 3 + np.roll(corners, -1, 0)) / 4)
    pts.append((corners + 3 * np.roll(corners, -1, 0)) / 4)
    return np.concatenate(pts)


def _sample_roads(rng: np.random.Generator) -> list[Road]:
    width = float(rng.uniform(6.5, 12.0))
    heading = float(rng.uniform(0, math.pi))
    # The camera stands on the main road, not necessarily on its centre line.
    lateral = float(rng.uniform(-0.3, 0.3) * width / 2)
    nx, ny = -math.sin(heading), math.cos(heading)
    roads: list[Road] = []
    if rng.uniform() < 0.35:
        radius = float(rng.uniform(35, 110))
        side = 1 if rng.uniform() < 0.5 else -1
        center = ((radius + lateral * side) * nx * side, (radius + lateral * side) * ny * side)
        roads.append(Road("circle", center, radius=radius, width=width))
    else:
        roads.append(Road("line", (lateral * nx, lateral * ny), heading=heading, width=width))
    main = roads[0]
    # Crossing streets and side streets.
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        s = float(rng.uniform(-28, 28))
        px, py = _point_on_road(main, s) if main.kind != "line" else (
            main.origin[0] + s * math.cos(heading), main.origin[1] + s * math.sin(heading))
        base = road_heading_at(main, px, py)
        angle = base + math.pi / 2 + float(rng.uniform(-0.5, 0.5))
        w = float(rng.uniform(5.5, width))
        if rng.uniform() < 0.5:
            roads.append(Road("line", (px, py), heading=angle, width=w))
        else:
            if rng.uniform() < 0.5:
                angle += math.pi
            roads.append(Road("ray", (px, py), heading=angle, width=w))
    # Sometimes a parallel street.
    if main.kind == "line" and rng.uniform() < 0.35:
        off = float(rng.choice([-1, 1]) * rng.uniform(22, 30))
        roads.append(Road("line", (main.origin[0] + off * nx, main.origin[1] + off * ny), heading=heading,
                          width=float(rng.uniform(5.5, 9))))
    return roads


def sample_scene(seed: int, index: int, tile_meters: float = 64.0) -> Scene:
    """Draw the random scene of (seed, index); the same pair always gives the same scene."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    palette = _random_palette(rng)
    sun_az = rng.uniform(0, 2 * math.pi)  # clockwise from north
    sun_el = rng.uniform(math.radians(25), math.radians(70))
    sun = np.array([math.cos(sun_el) * math.sin(sun_az), math.cos(sun_el) * math.cos(sun_az), math.sin(sun_el)],
                   np.float32)
    scene = Scene(palette=palette, sun=sun, roads=_sample_roads(rng), sidewalk_width=float(rng.uniform(1.5, 3.0)),
                  dash_period=float(rng.uniform(4, 8)), parking_lots=[], boxes=[], buildings=[], trees=[],
                  noise_phase=rng.uniform(0, 2 * math.pi, 4))
    half_tile = tile_meters / 2
    density = rng.uniform(0.4, 1.0)  # suburbs to downtown
    footprints: list[np.ndarray] = []

    def place_along_road(depth_range, length_range, setback_range):
        road = scene.roads[rng.integers(len(scene.roads))]
        s0 = _arc_position_of(road, 0.0, 0.0)
        s = s0 + float(rng.uniform(-half_tile * 1.1, half_tile * 1.1))
        if road.kind == "ray":
            s = abs(s - s0)
        px, py = _point_on_road(road, s)
        heading = road_heading_at(road, px, py)
        side = 1 if rng.uniform() < 0.5 else -1
        depth = float(rng.uniform(*depth_range))
        length = float(rng.uniform(*length_range))
        offset = road.width / 2 + scene.sidewalk_width + float(rng.uniform(*setback_range)) + depth / 2
        nx, ny = -math.sin(heading) * side, math.cos(heading) * side
        return (px + offset * nx, py + offset * ny), heading, (length / 2, depth / 2), (nx, ny)

    def fits(center, heading, half, margin=0.6) -> np.ndarray | None:
        if max(abs(center[0]), abs(center[1])) > half_tile + 4:
            return None
        corners = _box_corners(center, heading, half)
        if not _clear_of_roads(scene, _sample_points(corners), margin):
            return None
        if any(_boxes_overlap(corners, other, margin) for other in footprints):
            return None
        return corners

    # Buildings, some with a wing (an L-shaped footprint).
    for _ in range(int(60 * density)):
        center, heading, half, away = place_along_road((6, 16), (6, 22), (0.5, 6))
        corners = fits(center, heading, half)
        if corners is None:
            continue
        floors = int(rng.integers(1, 3 if density < 0.6 else 8))
        floor_height = float(rng.uniform(*FLOOR_HEIGHT_M))
        bid = len(scene.buildings)
        scene.buildings.append(Building(
            roof_color=_jitter(rng, ROOF_COLORS[rng.integers(len(ROOF_COLORS))]),
            facade_color=_jitter(rng, FACADE_COLORS[rng.integers(len(FACADE_COLORS))]),
            window_color=_jitter(rng, WINDOW_COLOR, 0.2),
            floor_height=floor_height,
            window_spacing=float(rng.uniform(*WINDOW_SPACING_M)),
            roof_style="hipped" if floors <= 2 and rng.uniform() < 0.5 else "flat",
        ))
        height = floors * floor_height + float(rng.uniform(*ROOF_ALLOWANCE_M))
        scene.boxes.append(Box(center, heading, half, height, bid))
        footprints.append(corners)
        if rng.uniform() < 0.3:  # a wing behind the main block, on the side away from the road
            wing_half = (half[0] * float(rng.uniform(0.35, 0.8)), float(rng.uniform(3, 6)))
            along = float(rng.uniform(-1, 1) * (half[0] - wing_half[0]))
            c, s = math.cos(heading), math.sin(heading)
            back = half[1] + wing_half[1]
            wc = (center[0] + away[0] * back + along * c, center[1] + away[1] * back + along * s)
            wing = fits(wc, heading, wing_half, margin=-0.05)
            if wing is not None:
                scene.boxes.append(Box(wc, heading, wing_half, height * float(rng.uniform(0.6, 1.0)), bid))
                footprints.append(wing)

    # Parking lots beside the road.
    for _ in range(int(rng.integers(0, 3))):
        center, heading, half, _ = place_along_road((10, 18), (12, 26), (0.2, 2))
        corners = fits(center, heading, half, margin=0.3)
        if corners is not None:
            scene.parking_lots.append(Box(center, heading, half, 0.0, -1))
            footprints.append(corners)

    # Trees: rows along the sidewalks, and scattered ones on the grass.
    def add_tree(x, y, radius) -> None:
        if max(abs(x), abs(y)) > half_tile + 3:
            return
        p = np.array([[x, y]])
        for road in scene.roads:
            d, _ = road_coords(road, p[:, 0], p[:, 1])
            if d[0] < road.width / 2 + 0.4:
                return
        for corners in footprints:
            if _boxes_overlap(corners, _box_corners((x, y), 0.0, (radius, radius)), 0.2):
                return
        for t in scene.trees:
            if math.hypot(t.center[0] - x, t.center[1] - y) < t.crown_radius + radius:
                return
        scene.trees.append(Tree((x, y), radius, float(rng.uniform(1.8, 3.2)),
                                _jitter(rng, TREE_COLORS[rng.integers(len(TREE_COLORS))], 0.12)))

    for road in scene.roads:
        if rng.uniform() < 0.5:
            continue
        spacing = float(rng.uniform(7, 14))
        s0 = _arc_position_of(road, 0.0, 0.0)
        for side in (-1, 1):
            for s in np.arange(s0 - half_tile * 1.2, s0 + half_tile * 1.2, spacing):
                px, py = _point_on_road(road, float(s))
                h = road_heading_at(road, px, py)
                off = road.width / 2 + scene.sidewalk_width * 0.5
                add_tree(px - math.sin(h) * off * side, py + math.cos(h) * off * side,
                         float(rng.uniform(1.2, 2.2)))
    for _ in range(int(rng.integers(0, 25))):
        add_tree(float(rng.uniform(-half_tile, half_tile)), float(rng.uniform(-half_tile, half_tile)),
                 float(rng.uniform(1.5, 3.2)))
    return scene


def redraw_unseen(scene: Scene, rng: np.random.Generator, mean_colours: bool = False) -> Scene:
    """A copy of ``scene`` with what the aerial view does not show drawn anew from its distribution given what it
    does show: each building's facade and window colours, window spacing and storeys (its floor height and the
    number of floors, within the height its shadow gives away), the sky's jitter and the fog. Rendering the copy
    from the ground gives a sample of the panorama's distribution given the aerial tile, as a perfect
    cross-view sampler would draw it; the aerial render is unchanged.

    The storeys come from their prior (``sample_scene``: floors 1-2 or 1-7 by density, integrated out over its
    prior, an approximation, since the tile's number of buildings hints at it; a hipped roof means at most 2
    floors), restricted to the main block's height, height = floors * floor_height + U(0.3, 1.2).

    ``mean_colours``: draw only where the windows are (spacing and storeys) and give the colours and the fog
    their distributions' means, as the cheapest plausible facade would: one wall colour, crisp windows."""
    def colour(rgb, amount: float = 0.08) -> np.ndarray:  # _jitter, or its mean (its factor averages 1)
        return np.asarray(rgb, np.float32) if mean_colours else _jitter(rng, rgb, amount)

    def floors_prior(f: int, hipped: bool) -> float:
        p = (1 / 3) * (f <= 2) / 2 + (2 / 3) / 7  # density < 0.6 with probability 1/3: floors 1-2, else 1-7
        return p * (0.5 if f <= 2 else 0.0) if hipped else p * (0.5 if f <= 2 else 1.0)

    main_height = {}
    for box in scene.boxes:  # a building's first box is its main block, wings come after it
        main_height.setdefault(box.building, box.height)
    buildings = []
    for bid, b in enumerate(scene.buildings):
        h = main_height[bid]
        options = []  # (floors, lowest and highest floor height that fit the height, weight)
        for f in range(1, 8):
            lo = max(FLOOR_HEIGHT_M[0], (h - ROOF_ALLOWANCE_M[1]) / f)
            hi = min(FLOOR_HEIGHT_M[1], (h - ROOF_ALLOWANCE_M[0]) / f)
            if hi > lo:
                options.append((f, lo, hi, floors_prior(f, b.roof_style == "hipped") * (hi - lo)))
        weights = np.array([o[3] for o in options])
        f, lo, hi, _ = options[rng.choice(len(options), p=weights / weights.sum())]
        buildings.append(Building(
            roof_color=b.roof_color,
            facade_color=np.mean(FACADE_COLORS, 0).astype(np.float32) if mean_colours
            else colour(FACADE_COLORS[rng.integers(len(FACADE_COLORS))]),
            window_color=colour(WINDOW_COLOR, 0.2),
            floor_height=float(rng.uniform(lo, hi)),
            window_spacing=float(rng.uniform(*WINDOW_SPACING_M)),
            roof_style=b.roof_style,
        ))
    pal = scene.palette
    overcast = (pal.ambient - 0.45) / 0.2  # the shading, which the aerial shows, fixes the overcast level
    zenith, horizon = sky_colours(overcast)
    palette = replace(pal, sky_zenith=colour(zenith, 0.05), sky_horizon=colour(horizon, 0.04),
                      fog_meters=float(np.mean(FOG_M)) if mean_colours else float(rng.uniform(*FOG_M)))
    return replace(scene, palette=palette, buildings=buildings)


# --------------------------------------------------------------------------------------------------
# Shading helpers shared by both views


def _texture(scene: Scene, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smooth world-space brightness variation in [0.9, 1.1]; identical in both views."""
    p = scene.noise_phase
    n = np.sin(0.37 * x + 0.21 * y + p[0]) * np.sin(0.29 * y - 0.17 * x + p[1])
    n += 0.5 * np.sin(1.3 * x + 0.7 * y + p[2]) * np.sin(1.1 * y - 0.9 * x + p[3])
    return (1.0 + 0.066 * n).astype(np.float32)


def ground_surface(scene: Scene, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class id and base colour of the ground plane at points (x, y)."""
    pal = scene.palette
    cls = np.full(x.shape, GRASS, np.uint8)
    on_road = np.zeros(x.shape, bool)
    near_road = np.zeros(x.shape, bool)
    coords = [road_coords(r, x, y) for r in scene.roads]
    for road, (d, _) in zip(scene.roads, coords, strict=True):
        on_road |= d < road.width / 2
        near_road |= d < road.width / 2 + scene.sidewalk_width
    # Dashed centre lines, interrupted where another road crosses.
    lane = np.zeros(x.shape, bool)
    for i, (road, (d, s)) in enumerate(zip(scene.roads, coords, strict=True)):
        if road.width < 6.0:
            continue
        dashed = (d < 0.12) & (np.mod(s, scene.dash_period) < scene.dash_period / 2)
        for j, (other, (dj, _)) in enumerate(zip(scene.roads, coords, strict=True)):
            if j != i:
                dashed &= dj >= other.width / 2
        lane |= dashed
    for lot in scene.parking_lots:
        lx, ly = _to_box_frame(lot, x, y)
        inside = (np.abs(lx) < lot.half[0]) & (np.abs(ly) < lot.half[1])
        cls[inside] = PARKING
        stall = inside & (np.mod(lx + lot.half[0], 2.6) < 0.12) & (np.abs(ly) > 0.5)
        cls[stall] = LANE
    cls[near_road & ~on_road] = SIDEWALK
    cls[on_road] = ROAD
    cls[lane] = LANE
    colors = np.stack([pal.sky_zenith, pal.asphalt, pal.lane, pal.sidewalk, pal.grass, pal.parking])
    rgb = colors[np.minimum(cls, PARKING)] * _texture(scene, x, y)[..., None]
    return cls, rgb.astype(np.float32)


def _to_box_frame(box: Box, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, s = math.cos(box.heading), math.sin(box.heading)
    dx, dy = x - box.center[0], y - box.center[1]
    return dx * c + dy * s, -dx * s + dy * c


def _box_arrays(boxes: list[Box]) -> dict[str, np.ndarray]:
    return {
        "cx": np.array([b.center[0] for b in boxes], np.float32),
        "cy": np.array([b.center[1] for b in boxes], np.float32),
        "cos": np.array([math.cos(b.heading) for b in boxes], np.float32),
        "sin": np.array([math.sin(b.heading) for b in boxes], np.float32),
        "a": np.array([b.half[0] for b in boxes], np.float32),
        "b": np.array([b.half[1] for b in boxes], np.float32),
        "h": np.array([b.height for b in boxes], np.float32),
    }


def ray_boxes(origin: np.ndarray, direction: np.ndarray, boxes: dict[str, np.ndarray]):
    """Slab test of N rays against B oriented boxes standing on z = 0.

    origin, direction: (N, 3) or (3,). Returns t_near (N, B), inf where missed, and the axis of the
    entry face (0: the box's local x, 1: local y, 2: z).
    """
    o, d = np.reshape(origin, (-1, 1, 3)), np.reshape(direction, (-1, 1, 3))
    dx, dy = o[..., 0] - boxes["cx"], o[..., 1] - boxes["cy"]
    lx, ly = dx * boxes["cos"] + dy * boxes["sin"], -dx * boxes["sin"] + dy * boxes["cos"]
    vx = d[..., 0] * boxes["cos"] + d[..., 1] * boxes["sin"]
    vy = -d[..., 0] * boxes["sin"] + d[..., 1] * boxes["cos"]
    slabs = []
    for low, high, pos, v in ((-boxes["a"], boxes["a"], lx, vx), (-boxes["b"], boxes["b"], ly, vy),
                              (0.0, boxes["h"], o[..., 2], d[..., 2])):
        inv = 1.0 / np.where(np.abs(v) < 1e-9, np.float32(1e-9), v)
        t0, t1 = (low - pos) * inv, (high - pos) * inv
        slabs.append((np.minimum(t0, t1), np.maximum(t0, t1)))
    (xn, xf), (yn, yf), (zn, zf) = slabs
    t_near = np.maximum(np.maximum(xn, yn), zn)
    t_far = np.minimum(np.minimum(xf, yf), zf)
    axis = np.where((xn >= yn) & (xn >= zn), 0, np.where(yn >= zn, 1, 2))
    return np.where((t_near < t_far) & (t_near > EPS), t_near, np.inf), axis


def ray_spheres(origin: np.ndarray, direction: np.ndarray, centers: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Nearest positive hit distance of N rays with S spheres, (N, S), inf where missed.

    |o + t d - c|^2 = r^2 with |d| = 1 gives t = -b -+ sqrt(b^2 - k), b = d.(o - c), k = |o - c|^2 - r^2;
    both terms expand into matrix products, so no (N, S, 3) array is ever built.
    """
    o = np.reshape(origin, (-1, 3))
    d = np.reshape(direction, (-1, 3))
    b = (o * d).sum(-1, keepdims=True) - d @ centers.T
    k = (o * o).sum(-1, keepdims=True) - 2 * o @ centers.T + (centers * centers).sum(-1) - radii**2
    disc = b * b - k
    sq = np.sqrt(np.maximum(disc, 0))
    t = np.where(-b - sq > EPS, -b - sq, np.where(-b + sq > EPS, -b + sq, np.inf))
    return np.where(disc > 0, t, np.inf)


def in_shadow(scene: Scene, points: np.ndarray, boxes: dict[str, np.ndarray]) -> np.ndarray:
    """True where the ray from a point towards the sun is blocked by a building or a tree crown."""
    blocked = np.zeros(len(points), bool)
    if len(points) == 0:
        return blocked
    if scene.boxes:
        t_near, _ = ray_boxes(points, scene.sun, boxes)
        blocked |= np.isfinite(t_near).any(1)
    if scene.trees:
        centers, radii = _crowns(scene)
        blocked |= np.isfinite(ray_spheres(points, scene.sun, centers, radii)).any(1)
    return blocked


def _crowns(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    centers = np.array([(t.center[0], t.center[1], t.trunk_height + t.crown_radius) for t in scene.trees],
                       np.float32)
    return centers, np.array([t.crown_radius for t in scene.trees], np.float32)


def _shade(scene: Scene, base: np.ndarray, normal: np.ndarray, shadow: np.ndarray) -> np.ndarray:
    pal = scene.palette
    lambert = np.clip(normal @ scene.sun, 0, 1) * ~shadow
    return base * (pal.ambient + pal.diffuse * lambert)[..., None]


# --------------------------------------------------------------------------------------------------
# The two views


def render_aerial(scene: Scene, cfg: SynthCityConfig) -> tuple[np.ndarray, np.ndarray]:
    """Orthographic top-down view: (H, W, 3) uint8 image and (H, W) uint8 class ids."""
    h, w = cfg.aerial_size
    mpp = cfg.aerial_meters_per_pixel
    cols, rows = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    x = ((cols + 0.5 - w / 2) * mpp).ravel()
    y = ((h / 2 - rows - 0.5) * mpp).ravel()
    cls, base = ground_surface(scene, x, y)
    z = np.zeros_like(x)
    normal = np.tile(np.array([0, 0, 1], np.float32), (len(x), 1))

    for box in sorted(scene.boxes, key=lambda b: b.height):
        lx, ly = _to_box_frame(box, x, y)
        inside = (np.abs(lx) < box.half[0]) & (np.abs(ly) < box.half[1]) & (z < box.height)
        if not inside.any():
            continue
        bld = scene.buildings[box.building]
        z[inside] = box.height
        cls[inside] = ROOF
        color = np.broadcast_to(bld.roof_color, (int(inside.sum()), 3)).copy()
        bx, by = lx[inside], ly[inside]
        if bld.roof_style == "hipped":
            # Four faces meeting at a ridge; each face tilts 30 degrees towards its edge.
            ex, ey = box.half[0] - np.abs(bx), box.half[1] - np.abs(by)
            along_x = ex < ey
            c, s = math.cos(box.heading), math.sin(box.heading)
            local = np.where(along_x[:, None], np.stack([np.sign(bx), 0 * bx], 1), np.stack([0 * by, np.sign(by)], 1))
            wx, wy = local[:, 0] * c - local[:, 1] * s, local[:, 0] * s + local[:, 1] * c
            tilt = math.sin(math.radians(30))
            n = np.stack([wx * tilt, wy * tilt, np.full_like(wx, math.cos(math.radians(30)))], 1)
            normal[inside] = n
        else:  # a parapet: a darker rim along the edges
            rim = (box.half[0] - np.abs(bx) < 0.4) | (box.half[1] - np.abs(by) < 0.4)
            color[rim] *= 0.8
            normal[inside] = (0, 0, 1)
        base[inside] = color * _texture(scene, x[inside] * 2.1, y[inside] * 2.1)[:, None]

    for tree in scene.trees:
        cx, cy = tree.center
        cz = tree.trunk_height + tree.crown_radius
        d2 = (x - cx) ** 2 + (y - cy) ** 2
        top = cz + np.sqrt(np.maximum(tree.crown_radius**2 - d2, 0))
        inside = (d2 < tree.crown_radius**2) & (top > z)
        if not inside.any():
            continue
        z[inside] = top[inside]
        cls[inside] = TREE
        n = np.stack([x[inside] - cx, y[inside] - cy, top[inside] - cz], 1) / tree.crown_radius
        normal[inside] = n
        base[inside] = tree.color * _texture(scene, x[inside] * 5.0, y[inside] * 5.0)[:, None]

    points = np.stack([x, y, z], 1) + normal * 1e-3
    shadow = in_shadow(scene, points, _box_arrays(scene.boxes) if scene.boxes else {})
    rgb = _shade(scene, base, normal, shadow)
    return _to_uint8(rgb).reshape(h, w, 3), cls.reshape(h, w)


def ground_ray_directions(cfg: SynthCityConfig) -> tuple[np.ndarray, np.ndarray]:
    """Unit ray directions (H*W, 3) of the panorama's pixel centres, and their elevations (radians)."""
    h, w = cfg.ground_size
    bottom, top = cfg.ground_elevation_range_deg
    az = np.radians(cfg.azimuth_at_column_0_deg + (np.arange(w) + 0.5) * 360.0 / w)
    el = np.radians(top - (np.arange(h) + 0.5) * (top - bottom) / h)
    az, el = np.meshgrid(az, el)
    d = np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], -1)
    return d.reshape(-1, 3).astype(np.float32), el.ravel()


def render_ground(scene: Scene, cfg: SynthCityConfig) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular panorama from the camera: (H, W, 3) uint8 image and (H, W) uint8 class ids."""
    h, w = cfg.ground_size
    pal = scene.palette
    origin = np.array([0, 0, cfg.camera_height_m], np.float32)
    dirs, el = ground_ray_directions(cfg)
    n = len(dirs)

    # Nearest hit over every kind of surface; kind: 0 sky, 1 ground, 2 box, 3 crown, 4 trunk.
    with np.errstate(divide="ignore"):
        t_best = np.where(dirs[:, 2] < -1e-6, -origin[2] / np.minimum(dirs[:, 2], -1e-6), np.inf)
    kind = np.where(np.isfinite(t_best), 1, 0)
    which = np.zeros(n, int)
    face = np.zeros(n, int)
    boxes = _box_arrays(scene.boxes) if scene.boxes else {}
    if scene.boxes:
        t_box, axis = ray_boxes(origin, dirs, boxes)
        j = t_box.argmin(1)
        tb = t_box[np.arange(n), j]
        better = tb < t_best
        t_best, kind, which = np.where(better, tb, t_best), np.where(better, 2, kind), np.where(better, j, which)
        face = axis[np.arange(n), j]
    if scene.trees:
        centers, radii = _crowns(scene)
        t_crown = ray_spheres(origin, dirs, centers, radii)
        j = t_crown.argmin(1)
        tc = t_crown[np.arange(n), j]
        better = tc < t_best
        t_best, kind, which = np.where(better, tc, t_best), np.where(better, 3, kind), np.where(better, j, which)
        t_trunk, j = _ray_trunks(scene, origin, dirs)
        better = t_trunk < t_best
        t_best, kind, which = np.where(better, t_trunk, t_best), np.where(better, 4, kind), np.where(better, j, which)

    cls = np.zeros(n, np.uint8)
    base = np.zeros((n, 3), np.float32)
    normal = np.zeros((n, 3), np.float32)
    hit = kind > 0
    p = origin + dirs * np.where(hit, t_best, 0)[:, None]

    g = kind == 1
    cls[g], base[g] = ground_surface(scene, p[g, 0], p[g, 1])
    normal[g] = (0, 0, 1)

    b = np.flatnonzero(kind == 2)
    if len(b):
        _shade_facades(scene, p, b, which[b], face[b], dirs, cls, base, normal)

    for k, is_crown in ((3, True), (4, False)):
        idx = np.flatnonzero(kind == k)
        if not len(idx):
            continue
        trees = [scene.trees[i] for i in which[idx]]
        c = np.array([(t.center[0], t.center[1], t.trunk_height + t.crown_radius) for t in trees], np.float32)
        if is_crown:
            r = np.array([t.crown_radius for t in trees], np.float32)[:, None]
            normal[idx] = (p[idx] - c) / r
            tex = _texture(scene, p[idx, 0] * 5 + p[idx, 2] * 3, p[idx, 1] * 5 - p[idx, 2] * 3)
            base[idx] = np.stack([t.color for t in trees]) * tex[:, None]
        else:
            radial = p[idx, :2] - c[:, :2]
            normal[idx, :2] = radial / (np.linalg.norm(radial, axis=1, keepdims=True) + 1e-9)
            base[idx] = pal.trunk
        cls[idx] = TREE

    shadow = np.zeros(n, bool)
    shadow[hit] = in_shadow(scene, p[hit] + normal[hit] * 1e-3, boxes)
    rgb = _shade(scene, base, normal, shadow)
    fog = 1.0 - np.exp(-np.where(hit, t_best, 0) / pal.fog_meters)
    rgb = rgb * (1 - fog[:, None]) + pal.sky_horizon * fog[:, None]
    sky = ~hit
    rgb[sky] = _sky(scene, dirs[sky], el[sky])
    return _to_uint8(rgb).reshape(h, w, 3), cls.reshape(h, w)


def _ray_trunks(scene: Scene, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit with the vertical trunk cylinders (radius 0.25 m) from one origin, and which trunk."""
    c = np.array([t.center for t in scene.trees], np.float32)
    top = np.array([t.trunk_height + t.crown_radius * 0.5 for t in scene.trees], np.float32)
    oc = origin[:2] - c  # (T, 2)
    dxy = dirs[:, :2]
    a = (dxy**2).sum(-1, keepdims=True) + 1e-12
    b = dxy @ oc.T
    disc = b * b - a * ((oc**2).sum(-1) - 0.25**2)
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    z = origin[2] + t * dirs[:, 2:3]
    t = np.where((disc > 0) & (t > EPS) & (z >= 0) & (z <= top), t, np.inf)
    j = t.argmin(1)
    return t[np.arange(len(dirs)), j], j


def _shade_facades(scene, p, idx, box_ids, axis, dirs, cls, base, normal) -> None:
    """Walls with a grid of windows per floor; normals face the camera side of the hit face."""
    boxes = [scene.boxes[i] for i in box_ids]
    cos_h = np.array([math.cos(b.heading) for b in boxes], np.float32)
    sin_h = np.array([math.sin(b.heading) for b in boxes], np.float32)
    half = np.array([b.half for b in boxes], np.float32)
    cx = np.array([b.center for b in boxes], np.float32)
    dx, dy = p[idx, 0] - cx[:, 0], p[idx, 1] - cx[:, 1]
    lx, ly = dx * cos_h + dy * sin_h, -dx * sin_h + dy * cos_h
    vx = dirs[idx, 0] * cos_h + dirs[idx, 1] * sin_h
    vy = -dirs[idx, 0] * sin_h + dirs[idx, 1] * cos_h
    on_x = axis == 0  # the wall perpendicular to the local x axis
    nlx = np.where(on_x, -np.sign(vx), 0.0)
    nly = np.where(on_x, 0.0, -np.sign(vy))
    normal[idx] = np.stack([nlx * cos_h - nly * sin_h, nlx * sin_h + nly * cos_h, np.zeros_like(nlx)], 1)
    roof = axis == 2  # only reachable by a ray from above; kept for completeness
    u = np.where(on_x, ly + half[:, 1], lx + half[:, 0])  # position along the wall
    wall_len = np.where(on_x, 2 * half[:, 1], 2 * half[:, 0])
    bld = [scene.buildings[b.building] for b in boxes]
    floor_h = np.array([b.floor_height for b in bld], np.float32)
    spacing = np.array([b.window_spacing for b in bld], np.float32)
    z = p[idx, 2]
    n_win = np.maximum(np.floor((wall_len - 1.0) / spacing), 1)
    pitch = (wall_len - 1.0) / n_win  # windows spread evenly, 0.5 m from the corners
    fu = np.mod(u - 0.5, pitch) / pitch
    fz = np.mod(z, floor_h) / floor_h
    window = (u > 0.5) & (u < wall_len - 0.5) & (fu > 0.25) & (fu < 0.75) & (fz > 0.3) & (fz < 0.78)
    window &= z < np.array([b.height for b in boxes]) - 0.8
    facade = np.stack([b.facade_color for b in bld])
    glass = np.stack([b.window_color for b in bld])
    tex = _texture(scene, p[idx, 0] * 3 + p[idx, 2], p[idx, 1] * 3 - p[idx, 2])[:, None]
    base[idx] = np.where(window[:, None], glass, facade * tex)
    cls[idx] = np.where(roof, ROOF, np.where(window, WINDOW, FACADE))


def _sky(scene: Scene, dirs: np.ndarray, el: np.ndarray) -> np.ndarray:
    pal = scene.palette
    t = np.sqrt(np.clip(el / (math.pi / 2), 0, 1))[:, None]
    rgb = pal.sky_horizon * (1 - t) + pal.sky_zenith * t
    glow = np.clip(dirs @ scene.sun, 0, 1) ** 64 * pal.diffuse
    return rgb + glow[:, None]


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def render_pair(seed: int, index: int, cfg: SynthCityConfig = SynthCityConfig()) -> dict[str, np.ndarray]:
    """Render scene (seed, index): keys aerial, ground (uint8 RGB) and aerial_labels, ground_labels."""
    scene = sample_scene(seed, index, cfg.tile_meters)
    aerial, aerial_labels = render_aerial(scene, cfg)
    ground, ground_labels = render_ground(scene, cfg)
    return {"aerial": aerial, "ground": ground, "aerial_labels": aerial_labels, "ground_labels": ground_labels}


# --------------------------------------------------------------------------------------------------
# Writing a pairs folder


def file_name(index: int) -> str:
    return f"{index:07d}.png"


def split_counts(num: int, train_frac: float, val_frac: float) -> dict[str, int]:
    """Contiguous blocks of indices: train first, then val, then test (scenes are i.i.d.)."""
    if not (0 <= train_frac <= 1 and 0 <= val_frac <= 1 and train_frac + val_frac <= 1 + 1e-9):
        raise ValueError(f"split fractions must lie in [0, 1] and sum to at most 1, got {train_frac}, {val_frac}")
    n_train = round(num * train_frac)
    n_val = min(round(num * val_frac), num - n_train)
    return {"train": n_train, "val": n_val, "test": num - n_train - n_val}


def _write_one(job: tuple[Path, int, int, SynthCityConfig, bool]) -> int:
    out, seed, index, cfg, labels = job
    pair = render_pair(seed, index, cfg)
    name = file_name(index)
    for view in ("aerial", "ground"):
        _save_png(Image.fromarray(pair[view]), out / view / name)
        if labels:
            _save_png(Image.fromarray(pair[f"{view}_labels"], mode="L"), out / "labels" / view / name)
    return index


def _save_png(img: Image.Image, path: Path) -> None:
    """Written atomically, so that an interrupted run never leaves a half-written PNG."""
    with atomic_file(path) as tmp:
        img.save(tmp, format="PNG", compress_level=1)


def generate(out: str | Path, num: int, seed: int = 0, cfg: SynthCityConfig = SynthCityConfig(),
             train_frac: float = 0.8, val_frac: float = 0.1, workers: int = 1, labels: bool = False,
             progress: bool = True, resume: bool = False) -> dict:
    """Render ``num`` pairs into ``out`` in the pairs layout and return the meta.json contents.

    With ``resume``, pairs whose files are already there are kept, not rendered again: an interrupted
    render continues, and a larger set grows from a smaller one of the same seed and config (files are
    written atomically, so one that exists is whole). A meta.json of another seed or config refuses.
    """
    out = Path(out)
    counts = split_counts(num, train_frac, val_frac)
    dirs = ["aerial", "ground"] + (["labels/aerial", "labels/ground"] if labels else [])
    if resume and (out / "meta.json").exists():
        old = json.loads((out / "meta.json").read_text())
        if old.get("seed") != seed or old.get("config") != json.loads(json.dumps(asdict(cfg))):
            raise ValueError(f"{out} holds SynthCity of seed {old.get('seed')} and config {old.get('config')}; "
                             f"resuming with seed {seed} and config {asdict(cfg)} would mix two datasets")
    for d in [*dirs, "splits"]:
        (out / d).mkdir(parents=True, exist_ok=True)
    jobs = [(out, seed, i, cfg, labels) for i in range(num)
            if not (resume and all((out / d / file_name(i)).exists() for d in dirs))]
    if len(jobs) < num:
        log.info("%d of %d pairs already in %s: rendering the other %d", num - len(jobs), num, out, len(jobs))
    bar = tqdm(total=len(jobs), desc="SynthCity", unit="pair", disable=not progress)
    if workers > 1:
        # spawn: no fork of a parent that may hold torch threads; order of completion does not matter
        # because every file depends on (seed, index) alone.
        with get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_write_one, jobs, chunksize=8):
                bar.update()
    else:
        for job in jobs:
            _write_one(job)
            bar.update()
    bar.close()

    start = 0
    for split in ("train", "val", "test"):
        indices = range(start, start + counts[split])
        write_split_csv(out, split, [(f"aerial/{file_name(i)}", f"ground/{file_name(i)}") for i in indices])
        start += counts[split]
    meta = {
        "generator": "SynthCity",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "num_pairs": num,
        "index_seed": "scene i is drawn from numpy SeedSequence([seed, i])",
        "splits": counts,
        **cfg.geometry(),
        "classes": CLASSES,
        "labels": labels,
        "config": asdict(cfg),
    }
    write_json_atomic(out / "meta.json", meta)  # replaced, never rewritten in place: safe in a hard-linked copy
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m crossview.data.synthcity",
        description="Render SynthCity: paired aerial tiles and ground panoramas of procedural city scenes, "
                    "written in the pairs layout (aerial/, ground/, splits/{train,val,test}.csv, meta.json).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True,
                   help="output folder (created; existing files are overwritten unless --resume)")
    p.add_argument("--num", type=int, required=True, help="number of pairs (scenes) to render")
    p.add_argument("--seed", type=int, default=0,
                   help="dataset seed; scene i depends on (seed, i) only. Use a different seed for held-out sets")
    p.add_argument("--aerial-size", type=parse_size, default=(128, 128), metavar="HxW",
                   help="aerial image size, 'HxW' or one number for a square")
    p.add_argument("--ground-size", type=parse_size, default=(64, 256), metavar="HxW",
                   help="panorama size 'HxW'; the width spans 360 degrees and pixels are square, "
                        "so the vertical field of view is 360*H/W degrees around the horizon")
    p.add_argument("--tile-meters", type=float, default=64.0, help="side of the aerial tile in metres")
    p.add_argument("--camera-height", type=float, default=2.0, help="panorama camera height above the road, metres")
    p.add_argument("--train-frac", type=float, default=0.8, help="fraction of pairs in splits/train.csv")
    p.add_argument("--val-frac", type=float, default=0.1,
                   help="fraction in splits/val.csv; the rest goes to splits/test.csv")
    p.add_argument("--workers", type=int, default=1, help="worker processes; output does not depend on it")
    p.add_argument("--labels", action="store_true",
                   help="also write uint8 class-id maps to labels/aerial/ and labels/ground/ (table in meta.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--resume", action="store_true",
                   help="keep pairs already rendered in --out (same seed and config) and render only the rest: "
                        "continues an interrupted render or grows a smaller set")
    return p


def main(argv: list[str] | None = None) -> None:
    p = build_parser()
    args = p.parse_args(argv)
    if args.num < 1:
        p.error("--num must be at least 1")
    if args.ground_size[1] < args.ground_size[0]:
        p.error("--ground-size must be at least as wide as it is high (the width spans 360 degrees)")
    try:
        split_counts(args.num, args.train_frac, args.val_frac)
    except ValueError as e:
        p.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = SynthCityConfig(aerial_size=args.aerial_size, ground_size=args.ground_size,
                          tile_meters=args.tile_meters, camera_height_m=args.camera_height)
    meta = generate(args.out, args.num, args.seed, cfg, args.train_frac, args.val_frac, args.workers,
                    args.labels, progress=not args.quiet, resume=args.resume)
    log.info("wrote %d pairs to %s (splits %s)", args.num, args.out, meta["splits"])


if __name__ == "__main__":
    main()
