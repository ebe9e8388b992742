"""Damaged data gives an error that names the file and the fix (ToyVIDDataset/ImageNet VID)."""

import copy
import json
import shutil

import pytest
from fixtures.toy_data import make_small_toy_vid, toy_dataset_config
from mmdet.registry import DATASETS
from mmengine.registry import init_default_scope

import mmpsla  # noqa: F401
from mmpsla.datasets.imagenet_vid_dataset import FrameReadError


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return make_small_toy_vid(tmp_path_factory.mktemp('toy_errors'), num_frames=8)


@pytest.fixture
def damaged(toy_root, tmp_path):
    """A private copy of the toy set that a test may damage."""
    root = tmp_path / 'toy'
    shutil.copytree(toy_root, root)
    return root


def _dataset(root, split='val', **overrides):
    init_default_scope('mmdet')
    cfg = toy_dataset_config(root)
    loader = cfg.val_dataloader if split == 'val' else cfg.train_dataloader
    ds_cfg = copy.deepcopy(loader.dataset)
    ds_cfg.update(overrides)
    return DATASETS.build(ds_cfg)


def _first_frame(root, split='val'):
    coco = json.loads((root / 'annotations' / f'{split}.json').read_text())
    return root / 'Data' / coco['images'][0]['file_name']


@pytest.mark.parametrize(
    'damage,reason',
    [
        (lambda p: p.write_bytes(b'\x00garbage, not a JPEG' * 20), 'not a decodable image'),
        (lambda p: p.write_bytes(b''), 'empty'),
        (lambda p: p.write_bytes(p.read_bytes()[:-64]), 'not a decodable image'),
        (lambda p: p.unlink(), 'does not exist'),
    ],
    ids=['corrupt', 'empty', 'truncated', 'missing'],
)
@pytest.mark.parametrize('split', ['val', 'train'])
def test_unreadable_frame_names_the_file(damaged, damage, reason, split):
    frame = _first_frame(damaged, split)
    damage(frame)
    dataset = _dataset(damaged, split)
    with pytest.raises(FrameReadError, match=reason) as info:
        # test: frame 0 itself; train: frame 0 as target n (its key frames k1, k2 are 0 too)
        dataset[(0, 0)]
    message = str(info.value)
    assert str(frame) in message and 'make_toy_vid.py --overwrite' in message


@pytest.mark.parametrize(
    'content,match',
    [
        ('this is not json', 'does not parse as JSON'),
        ('[1, 2, 3]', 'top level is a list'),
        ('{"images": [], "annotations": []}', "no 'categories' list"),
        (
            '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [], '
            '"categories": [{"id": 1, "name": "disc"}]}',
            r"images\[0\] lacks \['width', 'height'\]",
        ),
    ],
    ids=['text', 'list', 'no-categories', 'image-fields'],
)
def test_annotation_file_that_is_not_cocovid(damaged, content, match):
    (damaged / 'annotations' / 'val.json').write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        _dataset(damaged).full_init()
    assert str(damaged / 'annotations' / 'val.json') in str(info.value)
    assert 'CocoVID' in str(info.value)


def test_zero_frame_video_and_empty_file(damaged):
    ann = damaged / 'annotations' / 'val.json'
    coco = json.loads(ann.read_text())
    coco['videos'].append({'id': 99, 'name': 'no_frames'})
    ann.write_text(json.dumps(coco))
    with pytest.raises(
        ValueError, match=r'have no images \(zero frames.*99 \(no_frames\).*remove them'
    ):
        _dataset(damaged).full_init()
    coco['images'], coco['annotations'], coco['videos'] = [], [], []
    ann.write_text(json.dumps(coco))
    with pytest.raises(ValueError, match='holds no images.*regenerate'):
        _dataset(damaged).full_init()


@pytest.mark.parametrize(
    'overrides,error,match',
    [
        (dict(ann_file=3), TypeError, 'ann_file must be the path'),
        (dict(ann_file='annotations/missing.json'), FileNotFoundError, 'make_toy_vid'),
        (dict(only_vid_train_frames='yes'), TypeError, 'only_vid_train_frames must be True'),
        (dict(type='ImagenetVIDDataset'), ValueError, 'pass metainfo=dict'),
    ],
    ids=['ann-type', 'ann-missing', 'flag-type', 'wrong-classes'],
)
def test_bad_dataset_arguments(toy_root, overrides, error, match):
    with pytest.raises(error, match=match):
        _dataset(toy_root, **overrides).full_init()
