"""Converters write their outputs atomically: a converter that dies mid-write leaves the
previous file, never half of a new one."""

import json

import pytest

from mmpsla.datasets.converters.custom_vid import export_custom_csv
from mmpsla.datasets.converters.ilsvrc_common import dump_json


class _Unserialisable:
    """json.dump writes the keys before it reaches this value, then raises."""


def test_dump_json_that_fails_keeps_the_previous_file(tmp_path):
    out = tmp_path / 'ann' / 'train.json'
    dump_json({'videos': [1, 2]}, str(out))  # creates the folder
    assert json.loads(out.read_text()) == {'videos': [1, 2]}
    with pytest.raises(TypeError):
        dump_json({'videos': [3] * 1000, 'images': _Unserialisable()}, str(out))
    # a plain open(path, 'w') + json.dump would leave '{"videos": [3, 3, ...' here
    assert json.loads(out.read_text()) == {'videos': [1, 2]}
    assert [p.name for p in out.parent.iterdir()] == ['train.json']  # no temporary left


def test_export_csv_that_fails_keeps_the_previous_file(tmp_path):
    coco_vid = {
        'categories': [{'id': 1, 'name': 'car'}],
        'images': [{'id': 1, 'file_name': 'v/000003.jpg'}],
        'annotations': [{'image_id': 1, 'category_id': 1, 'bbox': [1, 2, 3, 4], 'id': 7}],
    }
    out = tmp_path / 'boxes.csv'
    assert export_custom_csv(coco_vid, str(out)) == 1
    before = out.read_text()
    assert before.splitlines()[1] == 'v,3,7,car,1,2,4,6'
    broken = dict(coco_vid, annotations=coco_vid['annotations'] + [{'image_id': 2}])
    with pytest.raises(KeyError):
        export_custom_csv(broken, str(out))
    assert out.read_text() == before
