"""The custom-dataset converter (frame folders + CSV -> CocoVID), its CLI tools and errors."""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpsla.datasets import ImagenetVIDDataset
from mmpsla.datasets.converters import convert_custom_vid, export_custom_csv

REPO = Path(__file__).resolve().parents[2]
HEADER = 'video,frame,track_id,class,xmin,ymin,xmax,ymax\n'
W, H = 48, 36


def _frame(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((H, W, 3), np.uint8))


@pytest.fixture
def layout(tmp_path):
    """vid_a: 5 frames; vid_b: frames 10 and 12 (a gap), .png; vid_c: one frame."""
    frames = tmp_path / 'frames'
    for f in range(5):
        _frame(frames / 'vid_a' / f'{f:06d}.jpg')
    for f in (10, 12):
        _frame(frames / 'vid_b' / f'frame_{f}.png')
    (frames / 'vid_b' / 'notes.txt').write_text('not a frame')
    _frame(frames / 'vid_c' / '000000.jpg')
    rows = [
        'vid_a,0,car1,car,1,2,11,12', 'vid_a,1,car1,car,2,2,12,12',
        'vid_a,1,p,person,30,20,55,35',  # reaches outside the 48 px frame: clipped
        'vid_a,3,car1,car,4,2,14,12',
        'vid_b,12,7,person,5,5,15,25', 'vid_b,10,7,person,4,5,14,25',
        'vid_c,0,1,car,1,1,5,5',  # a one-frame video: skipped
    ]  # fmt: skip
    csv = tmp_path / 'train.csv'
    csv.write_text(HEADER + '\n'.join(rows) + '\n')
    return frames, csv


def test_convert_layout(layout):
    frames, csv = layout
    with pytest.warns(UserWarning) as record:
        out = convert_custom_vid(str(frames), str(csv), classes=['person', 'car'], progress=False)
    messages = [str(w.message) for w in record]
    assert any(m.startswith('1 videos with fewer than 2 frames (skipped)') for m in messages)
    assert any(m.startswith('1 boxes reaching outside their frame (clipped)') for m in messages)
    assert out['box_convention'] == 'continuous'
    assert out['categories'] == [{'id': 1, 'name': 'person'}, {'id': 2, 'name': 'car'}]
    assert [v['name'] for v in out['videos']] == ['vid_a', 'vid_b']
    imgs = out['images']
    assert [(i['video_id'], i['frame_id'], i['file_name']) for i in imgs[4:]] == [
        (1, 4, 'vid_a/000004.jpg'),
        (2, 0, 'vid_b/frame_10.png'),
        (2, 1, 'vid_b/frame_12.png'),
    ]
    assert (imgs[0]['width'], imgs[0]['height']) == (W, H)
    anns = out['annotations']
    assert len(anns) == 6
    clipped = [a for a in anns if a['category_id'] == 1 and a['video_id'] == 1][0]
    assert clipped['bbox'] == [30, 20, 18, 15] and clipped['area'] == 270
    car = [a for a in anns if a['category_id'] == 2]
    assert [a['image_id'] for a in car] == [1, 2, 4] and len({a['instance_id'] for a in car}) == 1
    b = [a for a in anns if a['video_id'] == 2]
    assert [(a['image_id'], a['bbox']) for a in b] == [(6, [4, 5, 10, 20]), (7, [5, 5, 10, 20])]
    assert len({a['instance_id'] for a in anns}) == 3  # car1 and p of vid_a, 7 of vid_b
    # default classes: the CSV's names, sorted
    with pytest.warns(UserWarning):
        default = convert_custom_vid(str(frames), str(csv), progress=False)
    assert [c['name'] for c in default['categories']] == ['car', 'person']


def test_export_round_trip_and_dataset(layout, tmp_path):
    frames, csv = layout
    with pytest.warns(UserWarning):
        out = convert_custom_vid(str(frames), str(csv), classes=['car', 'person'], progress=False)
    assert export_custom_csv(out, str(tmp_path / 'again.csv')) == 6
    # the exported boxes are already clipped and the skipped video is not exported
    again = convert_custom_vid(str(frames), str(tmp_path / 'again.csv'), ['car', 'person'],
                               progress=False)  # fmt: skip
    assert again['annotations'] == out['annotations'] and again['images'] == out['images']
    assert export_custom_csv(out, str(tmp_path / 'cars.csv'), ['vid_a'], ['car']) == 3
    ann_file = tmp_path / 'train.json'
    ann_file.write_text(json.dumps(out))
    init_default_scope('mmdet')
    ds = ImagenetVIDDataset(ann_file=str(ann_file), data_prefix=dict(img_path=str(frames)),
                            metainfo=dict(classes=('car', 'person')), pipeline=[],
                            test_mode=True)  # fmt: skip
    video = ds.get_data_info(1)
    assert video['video_length'] == 2 and Path(video['images'][1]['img_path']).is_file()
    assert video['images'][0]['instances'][0]['bbox'] == [4, 5, 14, 25]
    assert video['images'][0]['instances'][0]['bbox_label'] == 1


def _expect(frames, csv, rows, error, match, **kwargs):
    csv.write_text(HEADER + '\n'.join(rows) + '\n')
    with pytest.raises(error, match=match):
        convert_custom_vid(str(frames), str(csv), progress=False, **kwargs)


def test_bad_input_is_refused_with_the_line(layout):
    frames, csv = layout
    ok = 'vid_a,0,1,car,1,2,11,12'
    _expect(frames, csv, [ok, 'vid_a,1,1,dog,1,2,11,12'], ValueError,
            r"line 3: unknown class 'dog'", classes=['car'])  # fmt: skip
    _expect(frames, csv, [ok, 'vid_a,7,1,car,1,2,11,12'], FileNotFoundError,
            'line 3: frame 7 of video .vid_a. has no image file')  # fmt: skip
    _expect(frames, csv, ['vid_x,0,1,car,1,2,11,12'], FileNotFoundError, 'no frame folder')
    _expect(frames, csv, [ok, 'vid_a,1,1,car,100,200,110,210'], ValueError,
            'line 3: box .* lies outside its 48x36 frame')  # fmt: skip
    _expect(frames, csv, [ok, 'vid_a,1,1,car,10,2,5,12'], ValueError, 'line 3: empty or inverted')
    _expect(frames, csv, [ok, 'vid_a,0,1,car,3,2,13,12'], ValueError,
            "line 3: track '1' has a second box in frame 0")  # fmt: skip
    _expect(
        frames, csv, ['vid_a,x,1,car,1,2,11,12'], ValueError, 'line 2: frame must be an integer'
    )
    _frame(frames / 'vid_a' / '0003.jpg')  # a second file for frame 3
    _expect(frames, csv, [ok], ValueError, "'000003.jpg' and '0003.jpg' both hold frame 3")
    csv.write_text('video,frame,class,xmin,ymin,xmax,ymax\nvid_a,0,car,1,2,11,12\n')
    with pytest.raises(ValueError, match=r"missing column\(s\) \['track_id'\]"):
        convert_custom_vid(str(frames), str(csv), progress=False)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        convert_custom_vid(str(frames), str(csv.parent / 'none.csv'), progress=False)


def test_config_template_builds_the_converted_splits(layout, tmp_path):
    from mmengine.config import Config

    from mmpsla.engine.hooks import AdaptClassHeadHook  # noqa: F401  (registered)

    frames, csv = layout
    root = tmp_path / 'my_vid'
    with pytest.warns(UserWarning):
        for split in ('train', 'val'):
            out = convert_custom_vid(str(frames), str(csv), ['car', 'person'], progress=False)
            (root / 'annotations').mkdir(parents=True, exist_ok=True)
            (root / 'annotations' / f'{split}.json').write_text(json.dumps(out))
    (root / 'frames').symlink_to(frames)
    cfg = Config.fromfile(REPO / 'configs' / 'vid' / 'custom' / 'psla_r50_custom.py')
    assert cfg.model.roi_head.bbox_head.num_classes == 2
    assert cfg.custom_hooks == [dict(type='AdaptClassHeadHook')]
    assert cfg.test_evaluator.ann_file == 'data/my_vid/annotations/val.json'
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS

    for name in ('train_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[name].dataset
        assert dataset_cfg.type == 'ImagenetVIDDataset'  # no DET mixed in
        dataset = DATASETS.build(dict(dataset_cfg, data_root=f'{root}/', pipeline=[]))
        assert dataset.metainfo['classes'] == ('car', 'person')
        assert dataset.get_data_info(0)['images'][0]['img_path'] == str(
            root / 'frames' / 'vid_a' / '000000.jpg'
        )


def test_cli_tools(layout, tmp_path):
    frames, csv = layout
    sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
    import cocovid2custom
    import custom2coco_vid

    out = tmp_path / 'annotations' / 'train.json'
    with pytest.warns(UserWarning):
        args = ['--frames', frames, '--ann', csv, '--out', out, '--classes', 'car', 'person']
        assert custom2coco_vid.main([str(a) for a in args] + ['--no-progress']) == 0
    coco = json.loads(out.read_text())
    assert len(coco['images']) == 7 and coco['box_convention'] == 'continuous'
    # export a one-video slice and copy its frames: a self-contained dataset
    dest = tmp_path / 'slice'
    args = [out, '--out', dest / 'train.csv', '--videos', 'vid_b', '--copy-frames', frames,
            dest / 'frames']  # fmt: skip
    assert cocovid2custom.main([str(a) for a in args]) == 0
    assert sorted(p.name for p in (dest / 'frames' / 'vid_b').iterdir()) == [
        'frame_10.png',
        'frame_12.png',
        'notes.txt',
    ]
    sliced = convert_custom_vid(str(dest / 'frames'), str(dest / 'train.csv'), progress=False)
    assert [v['name'] for v in sliced['videos']] == ['vid_b'] and len(sliced['annotations']) == 2


def test_video_files_become_frame_folders(tmp_path):
    from mmpsla.datasets.converters import extract_videos

    frames = tmp_path / 'frames'
    frames.mkdir()
    writer = cv2.VideoWriter(str(frames / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 10, (W, H))
    for f in range(3):
        writer.write(np.full((H, W, 3), 60 * f, np.uint8))  # frame f: gray level 60 f
    writer.release()
    csv = tmp_path / 'train.csv'
    csv.write_text(HEADER + 'clip,0,1,car,1,1,10,10\nclip,2,1,car,3,1,12,10\n')
    sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
    import custom2coco_vid

    out = tmp_path / 'train.json'
    args = ['--frames', frames, '--ann', csv, '--out', out, '--extract-videos', '--no-progress']
    assert custom2coco_vid.main([str(a) for a in args]) == 0
    assert sorted(p.name for p in (frames / 'clip').iterdir()) == [
        '000000.jpg', '000001.jpg', '000002.jpg']  # fmt: skip
    assert cv2.imread(str(frames / 'clip' / '000002.jpg')).mean() == pytest.approx(120, abs=3)
    coco = json.loads(out.read_text())
    assert [a['image_id'] for a in coco['annotations']] == [1, 3]
    assert extract_videos(str(frames)) == []  # already extracted: left alone
    (frames / 'broken.mp4').write_bytes(b'not a video')
    with pytest.raises(ValueError, match='broken.mp4: no frame could be read'):
        extract_videos(str(frames))
