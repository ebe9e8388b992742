"""VIDMetric against an independent implementation of the ImageNet VID devkit's rules.

The test writes an ILSVRC2015-layout fixture (XML annotations, JPEG frames,
``ImageSets/VID/val.txt``), converts it with our converter, evaluates adversarial
detections with ``VIDMetric`` and with the reference below, which reads the XML files
directly and follows FGFA's ``imagenet_vid_eval_motion.py`` rules one detection and one
box at a time (inclusive pixel boxes with ``+1`` widths, the small-object threshold,
greedy matching, closed motion ranges, absorption by ignored boxes, weighted false
positives, every frame of the image set counted). The two must agree to 1e-9.
"""

import json
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmpsla.datasets import VID_CLASSES, VID_WNIDS
from mmpsla.datasets.converters import convert_vid
from mmpsla.evaluation import VIDMetric

W, H = 96, 72
#: (name, low, high): the overall AP and FGFA's closed motion ranges
RANGES = [('mAP', 0.0, 1.0), ('mAP_fast', 0.0, 0.7), ('mAP_medium', 0.7, 0.9),
          ('mAP_slow', 0.9, 1.0)]  # fmt: skip


def _write_xml(path, objects):
    objs = ''.join(
        f'<object><trackid>{t}</trackid><name>{wnid}</name><bndbox><xmin>{b[0]}</xmin>'
        f'<ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>'
        '<occluded>0</occluded><generated>0</generated></object>'
        for t, wnid, b in objects
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<annotation><size><width>{W}</width><height>{H}</height></size>{objs}'
                    '</annotation>')  # fmt: skip


def _tracks(rng, length):
    """Random tracks: class, first/last frame, start box, speed (some slow, some fast)."""
    tracks = []
    for t in range(rng.integers(1, 4)):
        size = rng.choice([1, 2, 4, 8, 15, 30], size=2)  # one-pixel and small boxes too
        start = rng.integers(0, length // 2)
        tracks.append(dict(
            trackid=t, wnid=VID_WNIDS[rng.integers(0, 4)], first=start,
            last=rng.integers(start, length), box=np.array([rng.integers(0, W - 31),
                                                              rng.integers(0, H - 31)]),
            size=size - 1, speed=rng.choice([0, 0, 1, 2, 4], size=2),
        ))  # fmt: skip
    return tracks


@pytest.fixture
def ilsvrc_val(tmp_path):
    rng = np.random.default_rng(7)
    root = tmp_path / 'ILSVRC'
    lines, index = [], 1
    for v, length in enumerate((30, 24, 9)):
        video = f'ILSVRC2015_val_{v:08d}'
        tracks = _tracks(rng, length)
        for f in range(length):
            objects = []
            for tr in tracks:
                if tr['first'] <= f <= tr['last'] and not (v == 1 and 10 <= f < 14):
                    xy = np.clip(tr['box'] + tr['speed'] * (f - tr['first']), 0, [W - 31, H - 31])
                    x1, y1 = (int(c) for c in xy)
                    objects.append(
                        (
                            tr['trackid'],
                            tr['wnid'],
                            (x1, y1, x1 + int(tr['size'][0]), y1 + int(tr['size'][1])),
                        )
                    )
            _write_xml(root / 'Annotations' / 'VID' / 'val' / video / f'{f:06d}.xml', objects)
            jpg = root / 'Data' / 'VID' / 'val' / video / f'{f:06d}.JPEG'
            jpg.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(jpg), np.zeros((H, W, 3), np.uint8))
            lines.append(f'{video}/{f:06d} {index}\n')
            index += 1
    sets = root / 'ImageSets' / 'VID'
    sets.mkdir(parents=True)
    (sets / 'val.txt').write_text(''.join(lines))
    return root


def _detections(rng, gt_boxes, gt_wnids, num_classes=4):
    """Jittered hits (sometimes of the wrong class), duplicates and false positives."""
    dets = []
    for box, wnid in zip(gt_boxes, gt_wnids):
        for _ in range(rng.integers(0, 3)):
            jitter = rng.integers(-2, 3, size=4) + rng.choice([0.0, 0.25, 0.5], size=4)
            label = VID_WNIDS.index(wnid) if rng.random() < 0.85 else rng.integers(0, num_classes)
            dets.append((np.asarray(box, float) + jitter, label))
    for _ in range(rng.integers(0, 3)):
        x, y = rng.integers(0, W - 20), rng.integers(0, H - 20)
        dets.append((np.array([x, y, x + rng.integers(0, 20), y + rng.integers(0, 20)], float),
                     rng.integers(0, num_classes)))  # fmt: skip
    return dets


def _read_xml(path):
    objects = []
    for obj in ET.parse(path).getroot().findall('object'):
        bb = obj.find('bndbox')
        box = [float(bb.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
        objects.append((obj.find('trackid').text, obj.find('name').text, box))
    return objects


def _overlap(a, b):
    """The devkit's IoU of two inclusive-pixel boxes (0 when they do not overlap)."""
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if iw <= 0 or ih <= 0:
        return 0.0
    union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return iw * ih / (union - iw * ih)


def _voc_ap(tp, fp, npos):
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = np.concatenate(([0.0], tp / npos, [1.0]))
    prec = np.concatenate(([0.0], tp / np.maximum(tp + fp, np.finfo(np.float64).eps), [0.0]))
    for i in range(len(prec) - 2, -1, -1):
        prec[i] = max(prec[i], prec[i + 1])
    return sum((rec[i + 1] - rec[i]) * prec[i + 1] for i in range(len(rec) - 1)
               if rec[i + 1] != rec[i])  # fmt: skip


def devkit_reference(root, detections, window=10):
    """mAP per range from the XML files and ``{frame name: [(box, label, score)]}``."""
    names = [line.split()[0] for line in (root / 'ImageSets/VID/val.txt').read_text().split('\n')
             if line.strip()]  # fmt: skip
    frames = [_read_xml(root / 'Annotations' / 'VID' / 'val' / f'{n}.xml') for n in names]
    video_of = [n.rsplit('/', 1)[0] for n in names]
    # motion IoU: mean IoU with the same track within +-window frames of the same video
    motion = []
    for i, objects in enumerate(frames):
        values = []
        for trackid, _, box in objects:
            near = [_overlap(box, other)
                    for j in range(max(0, i - window), min(len(frames), i + window + 1))
                    if j != i and video_of[j] == video_of[i]
                    for t2, _, other in frames[j] if t2 == trackid]  # fmt: skip
            values.append(np.mean(near) if near else 1.0)
        motion.append(values)
    # frames without objects hold one motion IoU of 0 in FGFA's motion-IoU file
    everything = [m for values in motion for m in values] + [0.0] * sum(not f for f in frames)
    results = {}
    for name, low, high in RANGES:
        empty_weight = sum(low <= m <= high for m in everything) / len(everything)
        npos = np.zeros(len(VID_CLASSES))
        scored = []  # (score, label, tp, fp)
        for i, objects in enumerate(frames):
            labels = [VID_WNIDS.index(wnid) for _, wnid, _ in objects]
            boxes = [box for _, _, box in objects]
            thr = [min(0.5, (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
                       / ((b[2] - b[0] + 11) * (b[3] - b[1] + 11))) for b in boxes]  # fmt: skip
            ignored = [not low <= m <= high for m in motion[i]]
            for label, ign in zip(labels, ignored):
                npos[label] += not ign
            taken = [False] * len(boxes)
            for box, label, score in sorted(detections.get(names[i], []), key=lambda d: -d[2]):
                best, best_ov, ov_ign, ov_care = -1, -1.0, -1.0, -1.0
                for k, gt in enumerate(boxes):
                    ov = _overlap(box, gt)
                    if label == labels[k] and not taken[k] and ov >= thr[k] and ov > best_ov:
                        best, best_ov = k, ov
                    if ignored[k]:
                        ov_ign = max(ov_ign, ov)
                    else:
                        ov_care = max(ov_care, ov)
                if best >= 0:
                    taken[best] = True
                    scored.append((score, label, float(not ignored[best]), 0.0))
                elif ov_care > ov_ign:
                    scored.append((score, label, 0.0, 1.0))
                elif ov_ign > ov_care:
                    scored.append((score, label, 0.0, 0.0))
                elif not boxes:
                    scored.append((score, label, 0.0, empty_weight))
                else:
                    scored.append((score, label, 0.0, sum(ignored) / len(boxes)))
        scored.sort(key=lambda s: -s[0])
        aps = {}
        for c in range(len(VID_CLASSES)):
            if npos[c] > 0:
                mine = [s for s in scored if s[1] == c]
                aps[VID_CLASSES[c]] = _voc_ap([s[2] for s in mine], [s[3] for s in mine], npos[c])
        results[name] = (float(np.mean(list(aps.values()))), aps)
    return results


def test_vid_metric_equals_the_devkit_rules(ilsvrc_val, tmp_path):
    coco_vid = convert_vid(str(ilsvrc_val), 'val', progress=False)
    assert coco_vid['box_convention'] == 'inclusive_pixels'
    ann_file = tmp_path / 'imagenet_vid_val.json'
    ann_file.write_text(json.dumps(coco_vid))
    rng = np.random.default_rng(3)
    names = {img['id']: img['file_name'][len('val/') : -len('.JPEG')] for img in coco_vid['images']}
    reference_dets, samples = {}, []
    num = sum(
        len(_read_xml(ilsvrc_val / 'Annotations/VID/val' / f'{n}.xml')) for n in names.values()
    )
    scores = iter(rng.permutation(10 * num + 100) / (10 * num + 100) + 1e-3)  # distinct
    for img_id, name in names.items():
        objects = _read_xml(ilsvrc_val / 'Annotations/VID/val' / f'{name}.xml')
        dets = _detections(rng, [b for _, _, b in objects], [w for _, w, _ in objects])
        if rng.random() < 0.15:  # never predicted: its ground truth is missed
            continue
        dets = [(box, label, next(scores)) for box, label in dets]
        reference_dets[name] = dets
        frame = DetDataSample(metainfo=dict(img_id=img_id))
        frame.pred_instances = InstanceData(
            bboxes=torch.tensor(np.array([d[0] for d in dets]).reshape(-1, 4), dtype=torch.float64),
            scores=torch.tensor([d[2] for d in dets], dtype=torch.float64),
            labels=torch.tensor([d[1] for d in dets], dtype=torch.int64),
        )
        samples.append(frame.to_dict())
    expected = devkit_reference(ilsvrc_val, reference_dets)
    metric = VIDMetric(ann_file=str(ann_file), progress=False)
    metric.dataset_meta = dict(classes=VID_CLASSES)
    metric.process({}, samples)
    with pytest.warns(UserWarning, match='got no prediction; their ground truth counts as missed'):
        res = metric.evaluate(3)
    for name, _, _ in RANGES:
        assert res[f'vid/{name}'] == pytest.approx(expected[name][0], abs=1e-9), name
    for cls, ap in expected['mAP'][1].items():
        assert res[f'vid/AP_{cls}'] == pytest.approx(ap, abs=1e-9), cls
    # the fixture exercises what it is meant to: every category, FP weights in between
    assert all(0.05 < expected[name][0] < 0.95 for name, _, _ in RANGES)
