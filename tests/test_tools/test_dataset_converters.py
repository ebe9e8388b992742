"""ImageNet VID / DET converters on a tiny ILSVRC2015-layout fixture written by the test."""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpsla.datasets import VID_CLASSES, ImagenetVIDDataset
from mmpsla.datasets.converters import convert_det, convert_vid

REPO = Path(__file__).resolve().parents[2]
AIRPLANE, DOG, TENCH = 'n02691156', 'n02084071', 'n01440764'  # TENCH: a DET-only class
W, H = 64, 48
VID_TRAIN = ['ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000',
             'ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000001']  # fmt: skip


def _xml(width, height, objects):
    objs = ''
    for obj in objects:
        track = f'<trackid>{obj["trackid"]}</trackid>' if 'trackid' in obj else ''
        x1, y1, x2, y2 = obj['box']
        objs += (
            f'<object>{track}<name>{obj["name"]}</name><bndbox><xmax>{x2}</xmax>'
            f'<xmin>{x1}</xmin><ymax>{y2}</ymax><ymin>{y1}</ymin></bndbox>'
            f'<occluded>{int(obj.get("occluded", 0))}</occluded><generated>0</generated></object>'
        )
    return (f'<annotation><folder>x</folder><filename>f</filename><size><width>{width}</width>'
            f'<height>{height}</height></size>{objs}</annotation>')  # fmt: skip


def _write(root, kind, name, objects, image=True):
    xml = root / 'Annotations' / kind / f'{name}.xml'
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(_xml(W, H, objects))
    if image:
        jpg = root / 'Data' / kind / f'{name}.JPEG'
        jpg.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(jpg), np.full((H, W, 3), 128, np.uint8))


def _frame_objects(f):
    """Airplane (track 0) moving right; a dog (track 3) on frames >= 2, occluded on 4."""
    objs = [dict(trackid=0, name=AIRPLANE, box=(f, 5, f + 20, 25))]
    if f >= 2:
        objs.append(dict(trackid=3, name=DOG, box=(30, 20, 50, 40), occluded=f == 4))
    return objs


@pytest.fixture
def ilsvrc(tmp_path):
    root = tmp_path / 'ILSVRC'
    for f in range(20):
        _write(root, 'VID', f'train/{VID_TRAIN[0]}/{f:06d}', _frame_objects(f))
    for f in range(5):
        _write(root, 'VID', f'train/{VID_TRAIN[1]}/{f:06d}', _frame_objects(f)[:1])
    for f in range(4):
        _write(root, 'VID', f'val/ILSVRC2015_val_00000000/{f:06d}', _frame_objects(f))
    sets = root / 'ImageSets' / 'VID'
    sets.mkdir(parents=True)
    (sets / 'train_1.txt').write_text(f'{VID_TRAIN[0]} 1\n{VID_TRAIN[1]} 1\n')
    (sets / 'train_9.txt').write_text(f'{VID_TRAIN[0]} 1\n{VID_TRAIN[1]} -1\n')
    (sets / 'val.txt').write_text(''.join(f'ILSVRC2015_val_00000000/{f:06d} {f + 1}\n'
                                          for f in range(4)))  # fmt: skip
    det = [
        ('ILSVRC2013_train/n02691156/n02691156_1', [dict(name=AIRPLANE, box=(1, 2, 30, 40))]),
        ('ILSVRC2014_train_0000/ILSVRC2014_train_00000001',
         [dict(name=DOG, box=(5, 5, 20, 20)), dict(name=TENCH, box=(0, 0, 9, 9))]),
        ('ILSVRC2014_train_0000/ILSVRC2014_train_00000002', [dict(name=TENCH, box=(0, 0, 9, 9))]),
    ]  # fmt: skip
    for name, objs in det:
        _write(root, 'DET', f'train/{name}', objs)
    dsets = root / 'ImageSets' / 'DET'
    dsets.mkdir(parents=True)
    (dsets / 'train_1.txt').write_text(f'{det[2][0]} 1\n{det[0][0]} -1\n')
    (dsets / 'train_2.txt').write_text(f'{det[0][0]} 1\n{det[1][0]} 1\n')
    return root


def test_vid_round_trip(ilsvrc, tmp_path):
    train = convert_vid(str(ilsvrc), 'train', progress=False)
    assert [c['name'] for c in train['categories']] == list(VID_CLASSES)
    assert [v['name'] for v in train['videos']] == [f'train/{v}' for v in VID_TRAIN]
    assert len(train['images']) == 25 and len(train['annotations']) == 20 + 18 + 5
    img0 = train['images'][0]
    assert img0['file_name'] == f'train/{VID_TRAIN[0]}/000000.JPEG'
    assert (img0['width'], img0['height'], img0['frame_id']) == (W, H, 0)
    # 15 evenly spaced train frames in the 20-frame video, all 5 in the short one
    flags = [img['is_vid_train_frame'] for img in train['images']]
    assert sum(flags[:20]) == 15 and all(flags[20:])
    frames = [i for i, f in enumerate(flags[:20]) if f]
    assert frames == [0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19]
    anns = train['annotations']
    plane = [a for a in anns if a['video_id'] == 1 and a['category_id'] == 1]
    dog = [a for a in anns if a['category_id'] == 9]
    assert plane[3]['bbox'] == [3, 5, 20, 20] and plane[3]['area'] == 400
    assert len({a['instance_id'] for a in plane}) == 1 and len({a['instance_id'] for a in dog}) == 1
    other = {a['instance_id'] for a in anns if a['video_id'] == 2}
    assert len(other) == 1 and other.isdisjoint({plane[0]['instance_id'], dog[0]['instance_id']})
    assert [a['occluded'] for a in dog][:3] == [False, False, True]
    val = convert_vid(str(ilsvrc), 'val', progress=False)
    assert train['box_convention'] == val['box_convention'] == 'inclusive_pixels'
    assert len(val['images']) == 4 and not any(i['is_vid_train_frame'] for i in val['images'])
    # the JSON loads through the dataset with the same boxes
    ann_file = tmp_path / 'vid_train.json'
    ann_file.write_text(json.dumps(train))
    init_default_scope('mmdet')
    ds = ImagenetVIDDataset(ann_file=str(ann_file), data_root=str(ilsvrc),
                            data_prefix=dict(img_path='Data/VID'), pipeline=[],
                            only_vid_train_frames=True)  # fmt: skip
    video = ds.get_data_info(0)
    assert video['video_length'] == 20 and ds.get_target_frame_inds(0) == frames
    assert video['images'][4]['instances'][0]['bbox'] == [4, 5, 24, 25]
    assert Path(video['images'][4]['img_path']).is_file()


def test_vid_train_frame_list(ilsvrc, tmp_path):
    lst = tmp_path / 'VID_train_15frames.txt'
    lst.write_text(f'train/{VID_TRAIN[0]} 1 5 20\ntrain/{VID_TRAIN[0]} 1 10 20\n')
    train = convert_vid(str(ilsvrc), 'train', train_frame_list=str(lst), progress=False)
    flagged = [(i['video_id'], i['frame_id']) for i in train['images'] if i['is_vid_train_frame']]
    assert flagged == [(1, 4), (1, 9)]  # 1-based in the list


def test_vid_bad_annotations(ilsvrc):
    name = f'train/{VID_TRAIN[1]}/000001'
    _write(ilsvrc, 'VID', name, [dict(trackid=0, name=AIRPLANE, box=(-5, 5, 80, 25)),
                                 dict(trackid=1, name=DOG, box=(10, 10, 10, 30)),
                                 dict(trackid=2, name=DOG, box=(20, 10, 10, 30))])  # fmt: skip
    with pytest.warns(UserWarning) as record:
        train = convert_vid(str(ilsvrc), 'train', progress=False)
    messages = [str(w.message) for w in record]
    assert any(m.startswith('1 boxes reaching outside the image (kept as annotated)')
               for m in messages)  # fmt: skip
    assert any(m.startswith('1 inverted boxes (skipped)') for m in messages)
    assert train['box_convention'] == 'inclusive_pixels'
    # the XML's pixel corners, unchanged: the devkit evaluates the box reaching outside as
    # it is, and the one-pixel-wide dog box (xmin == xmax) is ground truth too
    ann = [a['bbox'] for a in train['annotations'] if a['image_id'] == 22]
    assert ann == [[-5, 5, 85, 20], [10, 10, 0, 20]]
    _write(ilsvrc, 'VID', name, [dict(trackid=0, name=TENCH, box=(1, 1, 9, 9))])
    with pytest.raises(ValueError, match='not one of the 30 VID classes'):
        convert_vid(str(ilsvrc), 'train', progress=False)
    _write(ilsvrc, 'VID', name, _frame_objects(1)[:1])
    (ilsvrc / 'Data' / 'VID' / f'{name}.JPEG').unlink()
    with pytest.raises(FileNotFoundError, match='000001.JPEG'):
        convert_vid(str(ilsvrc), 'train', progress=False)
    assert len(convert_vid(str(ilsvrc), 'train', check_images=False, progress=False)['images'])
    with pytest.raises(ValueError, match='split'):
        convert_vid(str(ilsvrc), 'test')


def test_det_conversion_and_bad_annotations(ilsvrc):
    with pytest.warns(UserWarning, match='2 objects of non-VID classes'):
        det = convert_det(str(ilsvrc), progress=False)
    assert det['box_convention'] == 'inclusive_pixels'
    # image 3 held only a tench -> dropped; each kept image is a one-frame video
    assert [i['file_name'] for i in det['images']] == [
        'train/ILSVRC2013_train/n02691156/n02691156_1.JPEG',
        'train/ILSVRC2014_train_0000/ILSVRC2014_train_00000001.JPEG',
    ]
    assert [v['id'] for v in det['videos']] == [i['video_id'] for i in det['images']] == [1, 2]
    assert all(i['frame_id'] == 0 and i['is_vid_train_frame'] for i in det['images'])
    assert [(a['category_id'], a['bbox']) for a in det['annotations']] == [
        (1, [1, 2, 29, 38]),
        (9, [5, 5, 15, 15]),
    ]
    (ilsvrc / 'Data' / 'DET' / 'train/ILSVRC2013_train/n02691156/n02691156_1.JPEG').unlink()
    with pytest.warns(UserWarning) as record:
        det = convert_det(str(ilsvrc), progress=False)
    assert any(str(w.message).startswith('1 missing image files') for w in record)
    assert len(det['images']) == 1
    with pytest.warns(UserWarning, match='non-VID classes'):
        kept = convert_det(str(ilsvrc), keep_empty=True, check_images=False, progress=False)
    assert len(kept['images']) == 3


def test_cli_tools_write_json(ilsvrc, tmp_path):
    sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
    import imagenet2coco_det
    import imagenet2coco_vid

    out = tmp_path / 'annotations'
    assert imagenet2coco_vid.main(['-i', str(ilsvrc), '-o', str(out), '--no-progress']) == 0
    with pytest.warns(UserWarning):
        assert imagenet2coco_det.main(['-i', str(ilsvrc), '-o', str(out), '--no-progress']) == 0
    for name, num in (('imagenet_vid_train', 25), ('imagenet_vid_val', 4),
                      ('imagenet_det_30cls', 2)):  # fmt: skip
        assert len(json.loads((out / f'{name}.json').read_text())['images']) == num
