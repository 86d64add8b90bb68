"""Page geometry before any reading: find the screen in a photo, deskew, normalise polarity and size,
then cut the page into text segments (runs of words) grouped into rows.

Every step records the transform it applied, so boxes from an engine that read the original upload
(the cloud fallback) can be mapped into the same coordinates as the local segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# Tesseract reads best when capital letters are ~20-30 px tall.
TARGET_TEXT_HEIGHT = 26.0


@dataclass(eq=False)
class Segment:
    """A run of text on one line (a word group), its box in normalised page coordinates and its reading."""

    box: tuple[int, int, int, int]
    text: str = ""
    confidence: float = 0.0
    engine: str = ""

    @property
    def x0(self) -> int:
        return self.box[0]

    @property
    def x1(self) -> int:
        return self.box[0] + self.box[2]

    @property
    def cx(self) -> float:
        return self.box[0] + self.box[2] / 2

    @property
    def cy(self) -> float:
        return self.box[1] + self.box[3] / 2


@dataclass
class Page:
    """The normalised page: grayscale with dark text on light, upright, text near the target height."""

    gray: np.ndarray
    text_height: float
    # 3x3 homography from original upload pixels to normalised page pixels.
    transform: np.ndarray = field(default_factory=lambda: np.eye(3))
    notes: list[str] = field(default_factory=list)

    def crop(self, box: tuple[int, int, int, int], pad: float = 0.5, x_margin: bool = True) -> np.ndarray:
        """The region of ``box`` (plus a thin margin) on a wide blank border of its own background:
        Tesseract wants room around a line, but a padded crop would catch parts of the rows around it."""
        x, y, w, h = box
        m = int(round(0.15 * self.text_height)) + 1
        height, width = self.gray.shape
        mx = m if x_margin else 0
        tight = self.gray[max(0, y - m) : min(height, y + h + m), max(0, x - mx) : min(width, x + w + mx)]
        edge = np.concatenate([tight[0], tight[-1], tight[:, 0], tight[:, -1]])
        p = int(round(pad * self.text_height))
        return cv2.copyMakeBorder(tight, p, p, p, p, cv2.BORDER_CONSTANT, value=int(np.median(edge)))

    def map_box(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Map a box in original upload pixels into page pixels (its bounding box after the transform)."""
        x, y, w, h = box
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
        mapped = cv2.perspectiveTransform(corners[None], self.transform)[0]
        x0, y0 = mapped.min(axis=0)
        x1, y1 = mapped.max(axis=0)
        return int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))


def _order_corners(points: np.ndarray) -> np.ndarray:
    s = points.sum(axis=1)
    d = np.diff(points, axis=1).ravel()
    return np.array([points[np.argmin(s)], points[np.argmin(d)], points[np.argmax(s)], points[np.argmax(d)]], dtype=np.float32)


def find_screen(rgb: np.ndarray) -> np.ndarray | None:
    """Corners of a screen photographed on a different background, or None for a plain screenshot."""
    height, width = rgb.shape[:2]
    border = np.concatenate([rgb[:4].reshape(-1, 3), rgb[-4:].reshape(-1, 3), rgb[:, :4].reshape(-1, 3), rgb[:, -4:].reshape(-1, 3)])
    background = np.median(border, axis=0)
    if np.abs(border.astype(np.float32) - background).max(axis=1).mean() > 25:
        return None  # the border itself is busy: no uniform surround to separate from
    distance = np.abs(rgb.astype(np.int16) - background.astype(np.int16)).max(axis=2)
    mask = (distance > 30).astype(np.uint8) * 255
    k = max(3, int(0.01 * max(height, width)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    if not 0.3 * height * width < area < 0.92 * height * width:
        return None
    hull = cv2.convexHull(contour)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    # A screenshot whose content is one large panel would also match; a photo's surround is uniform and wide.
    x, y, w, h = cv2.boundingRect(quad)
    if min(x, y, width - x - w, height - y - h) < 3:
        return None
    return _order_corners(quad.reshape(4, 2).astype(np.float32))


def _skew_angle(ink: np.ndarray) -> float:
    """The rotation (degrees) that makes text lines horizontal: maximise the sharpness of row profiles."""
    ys, xs = np.nonzero(ink)
    if len(xs) < 50:
        return 0.0
    step = max(1, len(xs) // 40000)
    xs, ys = xs[::step].astype(np.float64), ys[::step].astype(np.float64)
    best, best_score = 0.0, -1.0
    for coarse in (np.arange(-5.0, 5.01, 0.5), None):
        angles = coarse if coarse is not None else np.arange(best - 0.5, best + 0.51, 0.1)
        for angle in angles:
            t = math.radians(angle)
            rows = np.round(ys * math.cos(t) - xs * math.sin(t)).astype(np.int64)
            counts = np.bincount(rows - rows.min())
            score = float(np.dot(counts, counts))
            if score > best_score:
                best, best_score = float(angle), score
    return best


def _ink(gray: np.ndarray) -> np.ndarray:
    """Text pixels of a dark-on-light page (Otsu, robust to a mild lighting gradient)."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return binary


def _text_height(ink: np.ndarray) -> float:
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    keep = (heights >= 5) & (heights < 200) & (widths < 300)
    if not keep.any():
        return TARGET_TEXT_HEIGHT
    # Upper quartile: letters such as "a" and punctuation pull the median down.
    return float(np.percentile(heights[keep], 75))


def normalise(rgb: np.ndarray) -> Page:
    """Rectify, deskew, make text dark on light and scale it to the height Tesseract reads best."""
    transform = np.eye(3)
    notes: list[str] = []
    corners = find_screen(rgb)
    if corners is not None:
        top = np.linalg.norm(corners[1] - corners[0])
        left = np.linalg.norm(corners[3] - corners[0])
        w, h = int(max(top, np.linalg.norm(corners[2] - corners[3]))), int(max(left, np.linalg.norm(corners[2] - corners[1])))
        target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(corners, target)
        rgb = cv2.warpPerspective(rgb, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        transform = matrix @ transform
        notes.append("perspective corrected")
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if np.median(gray) < 110:  # dark theme
        gray = 255 - gray
    ink = _ink(gray)
    angle = _skew_angle(cv2.resize(ink, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if max(gray.shape) > 1600 else ink)
    if abs(angle) >= 0.2:
        h, w = gray.shape
        rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        border = int(np.median(np.concatenate([gray[0], gray[-1]])))
        gray = cv2.warpAffine(gray, rotation, (w, h), flags=cv2.INTER_CUBIC, borderValue=border)
        transform = np.vstack([rotation, [0, 0, 1]]) @ transform
        ink = _ink(gray)
        notes.append(f"deskewed {angle:.1f} degrees")
    height = _text_height(ink)
    scale = float(np.clip(TARGET_TEXT_HEIGHT / max(height, 1.0), 0.5, 3.0))
    if abs(scale - 1.0) > 0.1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        transform = np.diag([scale, scale, 1.0]) @ transform
        height *= scale
    return Page(gray=gray, text_height=height, transform=transform, notes=notes)


def segment(page: Page) -> list[Segment]:
    """Runs of text separated by wide gaps: a nickname, a number, a team name, a header word."""
    ink = _ink(page.gray)
    h = page.text_height
    # Join the letters and words of a run (thin underscores may vanish in binarisation, so be generous),
    # but not across the wide gaps between table columns.
    kernel = np.ones((max(1, int(h * 0.12)), max(3, int(h * 1.0))), np.uint8)
    joined = cv2.dilate(ink, kernel)
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    ys, xs = np.nonzero(ink)
    owner = labels[ys, xs]
    # Tight boxes of the ink of each joined run (the dilated box is wider than the text).
    x0 = np.full(count, 1 << 30); y0 = np.full(count, 1 << 30); x1 = np.full(count, -1); y1 = np.full(count, -1)
    np.minimum.at(x0, owner, xs); np.minimum.at(y0, owner, ys); np.maximum.at(x1, owner, xs); np.maximum.at(y1, owner, ys)
    page_h, page_w = page.gray.shape
    found = []
    for label in range(1, count):
        if x1[label] < 0:
            continue
        w, hh = int(x1[label] - x0[label] + 1), int(y1[label] - y0[label] + 1)
        if hh < 0.35 * h or hh > 4 * h or w < 0.2 * h:
            continue
        if w > 0.9 * page_w or (w < 0.4 * h and hh > 1.5 * h):
            continue  # a rule line, a band or screen edge, not text
        if hh < 0.6 * h and w < 1.6 * h:
            continue  # a lone dot, dash or colon (as between the two numbers of a big score)
        found.append(Segment(box=(int(x0[label]), int(y0[label]), w, hh)))
    return _join_close(found)


def _join_close(segments: list[Segment]) -> list[Segment]:
    """Join runs of large text (a big score's digits) whose gap is small for their own height."""
    merged: list[Segment] = []
    for row in group_rows(segments):
        current = row[0]
        for seg in row[1:]:
            gap = seg.x0 - current.x1
            if gap < 0.6 * max(current.box[3], seg.box[3]):
                x0, y0 = min(current.box[0], seg.box[0]), min(current.box[1], seg.box[1])
                x1 = max(current.x1, seg.x1)
                y1 = max(current.box[1] + current.box[3], seg.box[1] + seg.box[3])
                current = Segment(box=(x0, y0, x1 - x0, y1 - y0))
            else:
                merged.append(current)
                current = seg
        merged.append(current)
    return merged


def group_rows(segments: list[Segment]) -> list[list[Segment]]:
    """Segments grouped into visual rows (vertical centres close), top to bottom, each row left to right."""
    rows: list[list[Segment]] = []
    for seg in sorted(segments, key=lambda s: s.cy):
        if rows:
            last = rows[-1]
            centre = sum(s.cy for s in last) / len(last)
            height = max(s.box[3] for s in last)
            if abs(seg.cy - centre) < 0.45 * max(height, seg.box[3]):
                last.append(seg)
                continue
        rows.append([seg])
    return [sorted(row, key=lambda s: s.x0) for row in rows]


def merge_words(words: list[Segment], text_height: float) -> list[Segment]:
    """Join a page engine's words into runs the way `layout.segment` does (small gaps only)."""
    merged: list[Segment] = []
    for row in group_rows(words):
        current: Segment | None = None
        for word in row:
            if current is not None and word.x0 - current.x1 < 0.75 * text_height:
                x0, y0 = min(current.box[0], word.box[0]), min(current.box[1], word.box[1])
                x1 = max(current.x1, word.x1)
                y1 = max(current.box[1] + current.box[3], word.box[1] + word.box[3])
                joiner = "" if current.text.endswith(("/", ":", "-")) or word.text.startswith(("/", ":", "-")) else " "
                current = Segment((x0, y0, x1 - x0, y1 - y0), current.text + joiner + word.text,
                                  min(current.confidence, word.confidence), word.engine)
            else:
                if current is not None:
                    merged.append(current)
                current = Segment(word.box, word.text, word.confidence, word.engine)
        if current is not None:
            merged.append(current)
    return merged
