"""ImageNet DET (ILSVRC2015 DET train) restricted to the 30 VID classes, to CocoVID JSON."""

from __future__ import annotations

import glob
import os.path as osp
from collections import OrderedDict
from typing import List

from .ilsvrc_common import (
    WNID_TO_CAT,
    IssueLog,
    check_box,
    empty_ilsvrc_cocovid,
    iter_progress,
    parse_ilsvrc_xml,
    read_list,
    vid_statistics_line,
)


def list_det_images(root: str, image_list: str | None = None) -> List[str]:
    """DET train images (paths relative to ``Data/DET``, no extension), in order.

    Sources, in order of preference: ``image_list`` (e.g. FGFA's
    ``DET_train_30classes.txt``; first token per line, with or without the ``train/``
    prefix); the union of the positive entries (label ``1``) of
    ``ImageSets/DET/train_<k>.txt`` (lines ``<image> <label>``, k = 1..200); every XML
    under ``Annotations/DET/train``.
    """
    names: OrderedDict[str, None] = OrderedDict()
    if image_list is not None:
        for tokens in read_list(image_list):
            name = tokens[0] if tokens[0].startswith('train/') else f'train/{tokens[0]}'
            names.setdefault(osp.splitext(name)[0], None)
        return list(names)
    lists = glob.glob(osp.join(root, 'ImageSets', 'DET', 'train_*.txt'))
    lists.sort(key=lambda p: int(osp.basename(p)[6:-4]) if osp.basename(p)[6:-4].isdigit() else 0)
    for path in lists:
        for tokens in read_list(path):
            if len(tokens) < 2 or tokens[1] == '1':
                names.setdefault(f'train/{tokens[0]}', None)
    if not names:
        ann_root = osp.join(root, 'Annotations', 'DET')
        for xml in sorted(glob.glob(osp.join(ann_root, 'train', '**', '*.xml'), recursive=True)):
            names.setdefault(osp.splitext(osp.relpath(xml, ann_root))[0], None)
    return list(names)


def convert_det(
    root: str,
    image_list: str | None = None,
    check_images: bool = True,
    keep_empty: bool = False,
    progress: bool = True,
) -> dict:
    """Convert ImageNet DET train to CocoVID, keeping only the 30 VID classes.

    Each kept image becomes a one-frame video (``videos`` entry named after the image;
    ``frame_id`` 0, ``is_vid_train_frame`` True) so that VID and DET load through the same
    dataset code; ``file_name`` is relative to ``Data/DET``. Objects of the other 170 DET
    classes are dropped, and images left without a VID-class object are dropped unless
    ``keep_empty``.

    Bad annotations (each kind reported once as a ``UserWarning`` with a count): objects of
    non-VID classes (skipped), missing JPEG (image skipped), boxes reaching outside the
    image (kept as annotated), inverted boxes (skipped); see
    :func:`~.ilsvrc_common.check_box`. A missing XML raises ``FileNotFoundError``. The
    output declares ``box_convention='inclusive_pixels'`` (the XML's pixel corners).

    Args:
        root (str): ILSVRC2015 root (``Data/DET``, ``Annotations/DET``, ``ImageSets/DET``).
        image_list (str, optional): A list of images to use (see :func:`list_det_images`).
        check_images (bool): Skip images whose JPEG is missing. Defaults to True.
        keep_empty (bool): Keep images without a VID-class object. Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: CocoVID with ``box_convention``, ``categories``, ``videos``, ``images``,
        ``annotations``.
    """
    names = list_det_images(root, image_list)
    if not names:
        raise FileNotFoundError(f'no ImageNet DET train images found under {root}')
    issues = IssueLog()
    out = empty_ilsvrc_cocovid()
    for name in iter_progress(names, 'ImageNet DET', progress):
        xml = osp.join(root, 'Annotations', 'DET', f'{name}.xml')
        file_name = f'{name}.JPEG'
        width, height, objects = parse_ilsvrc_xml(xml)
        if check_images and not osp.isfile(osp.join(root, 'Data', 'DET', file_name)):
            issues.add('missing image files (image skipped)', file_name)
            continue
        anns = []
        for obj in objects:
            if obj.wnid not in WNID_TO_CAT:
                issues.add('objects of non-VID classes (skipped)', f'{xml}: {obj.wnid}')
                continue
            bbox = check_box(obj.box, width, height, xml, issues)
            if bbox is not None:
                anns.append((WNID_TO_CAT[obj.wnid], bbox))
        if not anns and not keep_empty:
            continue
        video_id = image_id = len(out['images']) + 1
        out['videos'].append({'id': video_id, 'name': name})
        out['images'].append(
            {
                'id': image_id,
                'video_id': video_id,
                'frame_id': 0,
                'file_name': file_name,
                'height': height,
                'width': width,
                'is_vid_train_frame': True,
            }
        )
        for k, (cat_id, bbox) in enumerate(anns):
            out['annotations'].append(
                {
                    'id': len(out['annotations']) + 1,
                    'image_id': image_id,
                    'video_id': video_id,
                    'category_id': cat_id,
                    'instance_id': k + 1,
                    'bbox': bbox,
                    'area': bbox[2] * bbox[3],
                    'iscrowd': False,
                    'occluded': False,
                }
            )
    issues.emit()
    if progress:
        print(vid_statistics_line('ImageNet DET (30 VID classes)', out))
    return out
