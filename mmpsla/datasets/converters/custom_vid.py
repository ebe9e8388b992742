"""A simple per-video layout (a folder of frames per video + one CSV of boxes) to CocoVID.

Layout::

    FRAMES/                      one folder per video
      street_01/000000.jpg       frame files named by their frame number (any zero
      street_01/000001.jpg       padding; .jpg .jpeg .png .bmp)
      ...
    street_02.mp4                or a video file per clip (see :func:`extract_videos`)
    train.csv                    one row per box (a header line first):

    video,frame,track_id,class,xmin,ymin,xmax,ymax
    street_01,0,1,car,10,20,110,80
    street_01,0,2,person,200,40,230,120
    street_01,1,1,car,12,20,112,80

``video`` is the folder name under ``FRAMES``, ``frame`` the frame number of the file,
``track_id`` identifies one object across the frames of its video (any string or
number), ``class`` a class name, and the box is in pixels with continuous edges
(``xmax = xmin + width``; COCO's convention, declared as ``box_convention='continuous'``
in the output). A split is one CSV: the videos it names become the split's videos, every
frame file of such a video becomes an image (frames without rows are unlabelled frames:
negatives), and ``frame_id`` is the frame's position in its video (0-based), so frame
numbers may have gaps (e.g. every 5th frame extracted).

Bad input gets a clear error naming the CSV line: a missing column, a video without a
folder, a frame without a file, two files with the same frame number, an unknown class
(when ``classes`` is given), a track with two boxes in one frame, an empty or inverted
box, a box entirely outside its frame. Boxes reaching partly outside their frame are
clipped to it and videos with fewer than ``min_frames`` frames are skipped; each of
these is reported in one ``UserWarning`` with a count and examples.
"""

from __future__ import annotations

import csv
import os
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from typing import Dict, List, Sequence, Tuple

from mmpsla.utils.atomic_io import atomic_write

from .ilsvrc_common import IssueLog, iter_progress

#: The CSV header of the simple layout.
CSV_COLUMNS = ('video', 'frame', 'track_id', 'class', 'xmin', 'ymin', 'xmax', 'ymax')
#: Frame files that are read; other files in a video folder are ignored.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
#: Video files that :func:`extract_videos` turns into frame folders.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')


def extract_videos(frames_root: str) -> List[str]:
    """Turn each video file ``frames_root/<name>.mp4`` (.avi .mov .mkv) into a frame folder.

    The frames are written as ``frames_root/<name>/000000.jpg, 000001.jpg, ...`` (frame
    number = position in the file, from 0), so a CSV can name the video ``<name>`` and
    its frames by number. A video whose folder already exists is left alone.

    Returns:
        list[str]: The names of the videos extracted now.

    Raises:
        ValueError: If a video file cannot be read.
    """
    import cv2

    done = []
    for entry in sorted(os.listdir(frames_root)):
        name, ext = osp.splitext(entry)
        folder = osp.join(frames_root, name)
        if ext.lower() not in VIDEO_EXTENSIONS or osp.isdir(folder):
            continue
        capture = cv2.VideoCapture(osp.join(frames_root, entry))
        os.makedirs(folder)
        count = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            cv2.imwrite(osp.join(folder, f'{count:06d}.jpg'), frame)
            count += 1
        capture.release()
        if count == 0:
            os.rmdir(folder)
            raise ValueError(f'{osp.join(frames_root, entry)}: no frame could be read')
        done.append(name)
    return done


def list_video_frames(frames_root: str, video: str) -> Dict[int, str]:
    """``{frame number: file name}`` of the frame files of ``frames_root/video``.

    Raises:
        FileNotFoundError: If the folder does not exist.
        ValueError: If a frame file's name has no frame number, or two files share one.
    """
    folder = osp.join(frames_root, video)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'video {video!r}: no frame folder {folder}')
    frames: Dict[int, str] = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            continue
        match = re.search(r'(\d+)$', stem)
        if match is None:
            raise ValueError(
                f'{osp.join(folder, name)}: a frame file name must end in its frame number '
                '(e.g. 000012.jpg or frame_12.png)'
            )
        number = int(match.group(1))
        if number in frames:
            raise ValueError(
                f'video {video!r}: files {frames[number]!r} and {name!r} both hold frame '
                f'{number}; keep one'
            )
        frames[number] = name
    return frames


def _image_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` of an image, from its header."""
    from PIL import Image

    with Image.open(path) as img:
        return img.size


def read_custom_csv(ann_file: str) -> List[Tuple[int, dict]]:
    """Rows of the annotation CSV as ``(line number, row)``, checking the header."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    with open(ann_file, newline='') as f:
        reader = csv.DictReader(f)
        header = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise ValueError(
                f'{ann_file}: missing column(s) {missing}; the header must be '
                f'{",".join(CSV_COLUMNS)}'
            )
        reader.fieldnames = header
        return [(n, {k: (v or '').strip() for k, v in row.items()}) for n, row in
                enumerate(reader, 2)]  # fmt: skip


def _parse_row(ann_file: str, line: int, row: dict) -> Tuple[int, List[float]]:
    where = f'{ann_file}, line {line}'
    try:
        frame = int(row['frame'])
        box = [float(row[k]) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
    except ValueError as err:
        raise ValueError(f'{where}: frame must be an integer and the box numbers ({err})') from err
    if not row['video'] or not row['class'] or not row['track_id']:
        raise ValueError(f'{where}: video, track_id and class must not be empty')
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f'{where}: empty or inverted box {box} (need xmax > xmin, ymax > ymin)')
    return frame, box


def convert_custom_vid(
    frames_root: str,
    ann_file: str,
    classes: Sequence[str] | None = None,
    min_frames: int = 2,
    progress: bool = True,
) -> dict:
    """Convert one split of the simple layout (module docstring) to a CocoVID dict.

    Args:
        frames_root (str): The folder holding one frame folder per video. The images'
            ``file_name`` is relative to it (use it as the dataset's image prefix).
        ann_file (str): The split's CSV.
        classes (Sequence[str], optional): The class list, in label order; a class name
            outside it is an error. Default: the names found in the CSV, sorted.
        min_frames (int): Videos with fewer frame files are skipped with a warning (a
            video detector needs neighbouring frames). Defaults to 2.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: CocoVID with ``box_convention`` (``'continuous'``), ``categories`` (ids 1..K
        in class order), ``videos``, ``images`` (``frame_id``: position in the video;
        ``is_vid_train_frame`` True) and ``annotations`` (``instance_id`` unique over the
        split, one per ``(video, track_id)``).
    """
    rows = read_custom_csv(ann_file)
    names = sorted({row['class'] for _, row in rows})
    if classes is None:
        classes = names
    classes = list(classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f'classes {classes} repeat a name')
    unknown = [(n, row['class']) for n, row in rows if row['class'] not in classes]
    if unknown:
        line, name = unknown[0]
        raise ValueError(
            f'{ann_file}, line {line}: unknown class {name!r} ({len(unknown)} row(s) with '
            f'classes outside {classes}); add it to the class list or fix the row'
        )
    by_video: Dict[str, List[Tuple[int, dict]]] = OrderedDict()
    for line, row in rows:
        by_video.setdefault(row['video'], []).append((line, row))
    issues = IssueLog()
    out = {
        'box_convention': 'continuous',
        'categories': [{'id': i + 1, 'name': name} for i, name in enumerate(classes)],
        'videos': [],
        'images': [],
        'annotations': [],
    }
    instances: Dict[Tuple[str, str], int] = {}
    for video, video_rows in iter_progress(by_video.items(), 'videos', progress, len(by_video)):
        frames = list_video_frames(frames_root, video)
        if len(frames) < min_frames:
            issues.add(f'videos with fewer than {min_frames} frames (skipped)', video)
            continue
        boxes_of = defaultdict(list)
        for line, row in video_rows:
            frame, box = _parse_row(ann_file, line, row)
            if frame not in frames:
                raise FileNotFoundError(
                    f'{ann_file}, line {line}: frame {frame} of video {video!r} has no image '
                    f'file in {osp.join(frames_root, video)} (frame files are named by their '
                    'frame number, e.g. 000012.jpg)'
                )
            boxes_of[frame].append((line, row, box))
        video_id = len(out['videos']) + 1
        out['videos'].append({'id': video_id, 'name': video})
        for frame_id, number in enumerate(sorted(frames)):
            file_name = f'{video}/{frames[number]}'
            width, height = _image_size(osp.join(frames_root, file_name))
            image_id = len(out['images']) + 1
            out['images'].append({
                'id': image_id, 'video_id': video_id, 'frame_id': frame_id,
                'file_name': file_name, 'width': width, 'height': height,
                'is_vid_train_frame': True,
            })  # fmt: skip
            seen_tracks = set()
            for line, row, box in boxes_of.get(number, []):
                if row['track_id'] in seen_tracks:
                    raise ValueError(
                        f'{ann_file}, line {line}: track {row["track_id"]!r} has a second box '
                        f'in frame {number} of video {video!r}'
                    )
                seen_tracks.add(row['track_id'])
                x1, y1 = max(box[0], 0.0), max(box[1], 0.0)
                x2, y2 = min(box[2], float(width)), min(box[3], float(height))
                if x2 <= x1 or y2 <= y1:
                    raise ValueError(
                        f'{ann_file}, line {line}: box {box} lies outside its {width}x{height} '
                        f'frame {file_name} (boxes are in pixels of the frame)'
                    )
                if [x1, y1, x2, y2] != box:
                    issues.add('boxes reaching outside their frame (clipped)', f'line {line}')
                instance = instances.setdefault((video, row['track_id']), len(instances) + 1)
                out['annotations'].append({
                    'id': len(out['annotations']) + 1, 'image_id': image_id,
                    'video_id': video_id, 'category_id': classes.index(row['class']) + 1,
                    'instance_id': instance, 'bbox': [x1, y1, x2 - x1, y2 - y1],
                    'area': (x2 - x1) * (y2 - y1), 'iscrowd': False, 'occluded': False,
                })  # fmt: skip
    issues.emit()
    if not out['videos']:
        raise ValueError(f'{ann_file}: no video left to convert (see the warnings)')
    return out


def export_custom_csv(
    coco_vid: dict,
    out_file: str,
    video_names: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
) -> int:
    """Write a CocoVID set's boxes as the simple layout's CSV (e.g. to take a slice).

    ``video`` is the folder of each image's ``file_name`` and ``frame`` the number its
    file name ends in, so the CSV pairs with the set's own frame folders. Boxes are
    written as ``[x, y, x + w, y + h]``.

    Args:
        coco_vid (dict): A CocoVID dict.
        out_file (str): The CSV to write.
        video_names (Sequence[str], optional): Keep only these videos (folder names).
        classes (Sequence[str], optional): Keep only the boxes of these classes.

    Returns:
        int: The number of rows written.
    """
    cats = {c['id']: c['name'] for c in coco_vid['categories']}
    images = {img['id']: img for img in coco_vid['images']}
    keep = None if video_names is None else set(video_names)
    rows = []
    for ann in coco_vid['annotations']:
        img = images[ann['image_id']]
        video, name = osp.split(img['file_name'])
        video = osp.basename(video)
        if (keep is not None and video not in keep) or (
            classes is not None and cats[ann['category_id']] not in classes
        ):
            continue
        number = int(re.search(r'(\d+)$', osp.splitext(name)[0]).group(1))
        x, y, w, h = ann['bbox']
        track = ann.get('instance_id', ann['id'])
        rows.append((video, number, track, cats[ann['category_id']], x, y, x + w, y + h))
    with atomic_write(out_file, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
    return len(rows)
