"""Shared pieces of the ILSVRC (ImageNet VID / DET) to CocoVID converters."""

from __future__ import annotations

import json
import os
import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Tuple

from ..cocovid_utils import vid_statistics
from ..vid_classes import VID_CLASSES, VID_WNIDS

#: wnid -> category id (1..30) of the VID classes.
WNID_TO_CAT = {wnid: i + 1 for i, wnid in enumerate(VID_WNIDS)}


def vid_categories() -> List[dict]:
    """CocoVID ``categories`` of the 30 VID classes (``wnid`` kept for reference)."""
    return [
        {'id': i + 1, 'name': n, 'wnid': w} for i, (n, w) in enumerate(zip(VID_CLASSES, VID_WNIDS))
    ]


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


def clip_box(
    box: Tuple[float, float, float, float], width: int, height: int, where: str, issues: IssueLog
) -> List[float] | None:
    """Clip an xyxy box to the image; ``[x, y, w, h]`` or ``None`` for an empty box.

    Boxes reaching outside the image are clipped (logged as ``'boxes outside the image
    (clipped)'``); boxes with no area after clipping are dropped (``'zero-size boxes
    (skipped)'``).
    """
    x1, y1, x2, y2 = box
    cx1, cy1 = min(max(x1, 0), width), min(max(y1, 0), height)
    cx2, cy2 = min(max(x2, 0), width), min(max(y2, 0), height)
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        issues.add('boxes outside the image (clipped)', where)
    if cx2 - cx1 <= 0 or cy2 - cy1 <= 0:
        issues.add('zero-size boxes (skipped)', where)
        return None
    return [cx1, cy1, cx2 - cx1, cy2 - cy1]


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
    """Write ``obj`` as JSON, creating the parent directory."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f)


def vid_statistics_line(title: str, coco_vid: dict) -> str:
    """One-line summary of a converted CocoVID dict."""
    stats = vid_statistics(coco_vid)
    return (
        f'{title}: {stats["videos"]} videos, {stats["frames"]} images, '
        f'{stats["boxes"]} boxes, {stats["objects"]} instances, '
        f'{stats["vid_train_frames"]} is_vid_train_frame'
    )
