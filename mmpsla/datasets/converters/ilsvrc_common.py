"""Shared pieces of the ILSVRC (ImageNet VID / DET) to CocoVID converters."""

from __future__ import annotations

import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Tuple

from mmpsla.utils.atomic_io import atomic_dump_json

from ..cocovid_utils import vid_statistics
from ..vid_classes import VID_CLASSES, VID_WNIDS

#: wnid -> category id (1..30) of the VID classes.
WNID_TO_CAT = {wnid: i + 1 for i, wnid in enumerate(VID_WNIDS)}


def vid_categories() -> List[dict]:
    """CocoVID ``categories`` of the 30 VID classes (``wnid`` kept for reference)."""
    return [
        {'id': i + 1, 'name': n, 'wnid': w} for i, (n, w) in enumerate(zip(VID_CLASSES, VID_WNIDS))
    ]


def empty_ilsvrc_cocovid() -> dict:
    """An empty CocoVID dict of the 30 VID classes, declaring ILSVRC's box convention."""
    return {
        'box_convention': ILSVRC_BOX_CONVENTION,
        'categories': vid_categories(),
        'videos': [],
        'images': [],
        'annotations': [],
    }


@dataclass
class IssueLog:
    """Collects annotation problems and reports each kind once, as one ``UserWarning``."""

    examples: Dict[str, List[str]] = field(default_factory=lambda: defaultdict(list))
    counts: Dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, where: str) -> None:
        self.counts[kind] += 1
        if len(self.examples[kind]) < 3:
            self.examples[kind].append(where)

    def emit(self) -> None:
        """Issue one warning per kind: the count and up to 3 examples."""
        for kind, count in self.counts.items():
            warnings.warn(f'{count} {kind}, e.g. {self.examples[kind]}', UserWarning, stacklevel=3)


@dataclass
class XMLObject:
    """One ``<object>`` of an ILSVRC XML file (box in pixel corners, xyxy)."""

    wnid: str
    box: Tuple[float, float, float, float]
    trackid: str | None = None
    occluded: bool = False
    generated: bool = False


def parse_ilsvrc_xml(path: str) -> Tuple[int, int, List[XMLObject]]:
    """Parse an ILSVRC VID/DET annotation XML.

    Returns:
        tuple: ``(width, height, objects)``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path} does not exist')
    root = ET.parse(path).getroot()
    size = root.find('size')
    if size is None:
        raise ValueError(f'{path}: no <size> element')
    width, height = int(size.findtext('width')), int(size.findtext('height'))
    objects = []
    for obj in root.findall('object'):
        box = obj.find('bndbox')
        if box is None:
            raise ValueError(f'{path}: an <object> without <bndbox>')
        objects.append(
            XMLObject(
                wnid=obj.findtext('name', '').strip(),
                box=tuple(float(box.findtext(k)) for k in ('xmin', 'ymin', 'xmax', 'ymax')),
                trackid=obj.findtext('trackid'),
                occluded=obj.findtext('occluded', '0').strip() == '1',
                generated=obj.findtext('generated', '0').strip() == '1',
            )
        )
    return width, height, objects


#: ILSVRC XML corners are inclusive pixel indices; the converters copy them unchanged and
#: record this in the output's top-level ``box_convention`` field, which ``VIDMetric``
#: reads (a box with ``xmin == xmax`` is one pixel wide).
ILSVRC_BOX_CONVENTION = 'inclusive_pixels'


def check_box(
    box: Tuple[float, float, float, float], width: int, height: int, where: str, issues: IssueLog
) -> List[float] | None:
    """An ILSVRC box (inclusive pixel corners) as CocoVID ``[x, y, w, h]``, or ``None``.

    The corners are kept as annotated, ``w = xmax - xmin`` and ``h = ymax - ymin`` (mmtrack's
    conversion), so the ImageNet VID devkit's evaluation sees exactly the XML's boxes:

    - one-pixel boxes (``xmin == xmax`` or ``ymin == ymax``, ``w`` or ``h`` 0) are kept: the
      devkit counts them as ground truth;
    - boxes reaching outside the image (beyond pixel ``width - 1`` / ``height - 1``) are
      kept as annotated, since the devkit evaluates them so (training transforms clip them
      to the image), and counted in a ``'boxes reaching outside the image'`` warning;
    - inverted boxes (``xmax < xmin`` or ``ymax < ymin``) are dropped (``'inverted boxes
      (skipped)'``).
    """
    x1, y1, x2, y2 = box
    if x2 < x1 or y2 < y1:
        issues.add('inverted boxes (skipped)', where)
        return None
    if x1 < 0 or y1 < 0 or x2 > width - 1 or y2 > height - 1:
        issues.add('boxes reaching outside the image (kept as annotated)', where)
    return [x1, y1, x2 - x1, y2 - y1]


def read_list(path: str) -> List[List[str]]:
    """Lines of an ImageSets/Lists text file, split on whitespace (blank lines dropped)."""
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def iter_progress(items: Iterable, desc: str, progress: bool, total: int | None = None):
    """``tqdm(items)`` when ``progress``, else ``items``."""
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, unit='item')


def dump_json(obj: dict, path: str) -> None:
    """Write ``obj`` as JSON atomically (a killed converter leaves no half-written file),
    creating the parent directory."""
    atomic_dump_json(obj, path)


def vid_statistics_line(title: str, coco_vid: dict) -> str:
    """One-line summary of a converted CocoVID dict."""
    stats = vid_statistics(coco_vid)
    return (
        f'{title}: {stats["videos"]} videos, {stats["frames"]} images, '
        f'{stats["boxes"]} boxes, {stats["objects"]} instances, '
        f'{stats["vid_train_frames"]} is_vid_train_frame'
    )
