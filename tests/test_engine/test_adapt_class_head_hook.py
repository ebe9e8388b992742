"""AdaptClassHeadHook: checkpoint tensors of class-dependent layers rewritten by class name."""

import pytest
import torch

from mmpsla.engine.hooks import AdaptClassHeadHook
from mmpsla.engine.hooks.adapt_class_head_hook import remap_class_rows

OLD = ['a', 'b', 'c', 'd']
NEW = ['c', 'x', 'a']


def test_remap_rows_by_class_name():
    cls = torch.arange(10.0).view(5, 2)  # 4 classes + background (last)
    out = remap_class_rows(cls, torch.full((4, 2), -1.0), OLD, NEW)
    assert out.tolist() == [[4, 5], [-1, -1], [0, 1], [8, 9]]  # c, x (new), a, background
    reg = torch.arange(16.0).view(16, 1)  # 4 rows per class
    out = remap_class_rows(reg, torch.full((12, 1), -1.0), OLD, NEW)
    assert out.view(-1).tolist() == [8, 9, 10, 11, -1, -1, -1, -1, 0, 1, 2, 3]
    # not a recognised layout (e.g. position-sensitive maps): None
    assert remap_class_rows(torch.zeros(45, 2), torch.zeros(36, 2), OLD, NEW) is None


def _states(new_rows=4):
    state = {
        'roi_head.bbox_head.fc_cls.weight': torch.randn(5, 8),
        'roi_head.bbox_head.fc_cls.bias': torch.randn(5),
        'roi_head.bbox_head.fc_reg.weight': torch.randn(16, 8),
        'roi_head.bbox_head.conv_cls.weight': torch.randn(9 * 5, 8, 1, 1),
        'backbone.conv.weight': torch.randn(4, 3),
        'neck.proj.weight': torch.randn(7, 2),
    }
    model = {
        'roi_head.bbox_head.fc_cls.weight': torch.zeros(new_rows, 8),
        'roi_head.bbox_head.fc_cls.bias': torch.zeros(new_rows),
        'roi_head.bbox_head.fc_reg.weight': torch.zeros(4 * (new_rows - 1), 8),
        'roi_head.bbox_head.conv_cls.weight': torch.zeros(9 * new_rows, 8, 1, 1),
        'backbone.conv.weight': torch.zeros(4, 3),
        'neck.proj.weight': torch.zeros(6, 2),
    }
    return state, model


def test_adapt_resizes_reinitialises_and_reports():
    state, model = _states()
    original = {k: v.clone() for k, v in state.items()}
    report = AdaptClassHeadHook().adapt(state, model, OLD, NEW)
    assert set(report) == {
        'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_cls.bias',
        'roi_head.bbox_head.fc_reg.weight', 'roi_head.bbox_head.conv_cls.weight',
        'neck.proj.weight'}  # fmt: skip
    assert report['roi_head.bbox_head.fc_cls.weight'].startswith(
        'resized (5, 8) -> (4, 8): 2 shared class(es) copied by name, 1 new class(es) re-init'
    )
    assert torch.equal(state['roi_head.bbox_head.fc_cls.weight'][0],
                       original['roi_head.bbox_head.fc_cls.weight'][2])  # fmt: skip
    assert torch.equal(state['roi_head.bbox_head.fc_cls.weight'][1], torch.zeros(8))
    assert torch.equal(state['roi_head.bbox_head.fc_reg.weight'][8:],
                       original['roi_head.bbox_head.fc_reg.weight'][:4])  # fmt: skip
    assert report['roi_head.bbox_head.conv_cls.weight'].startswith('re-initialised (45, 8, 1, 1)')
    assert torch.equal(state['roi_head.bbox_head.conv_cls.weight'], torch.zeros(36, 8, 1, 1))
    assert report['neck.proj.weight'] == 're-initialised (7, 2) -> (6, 2) (shape differs)'
    assert torch.equal(state['backbone.conv.weight'], original['backbone.conv.weight'])


def test_same_number_of_other_classes_and_unknown_checkpoint_classes():
    state, model = _states(new_rows=5)
    report = AdaptClassHeadHook().adapt(state, model, OLD, ['d', 'c', 'b', 'a'])
    assert report['roi_head.bbox_head.fc_cls.weight'].startswith('resized (5, 8) -> (5, 8): 4')
    assert report['roi_head.bbox_head.conv_cls.weight'].startswith('kept as is')
    # a checkpoint without dataset_meta: only shape changes can be seen
    state, model = _states()
    report = AdaptClassHeadHook().adapt(state, model, None, NEW)
    assert report['roi_head.bbox_head.fc_cls.weight'].startswith('re-initialised (5, 8)')
    # the same classes: nothing to do
    state, model = _states(new_rows=5)
    model['neck.proj.weight'] = torch.zeros(7, 2)
    assert AdaptClassHeadHook().adapt(state, model, OLD, OLD) == {}


def test_num_classes_of_the_head_must_match_the_dataset():
    class Head(torch.nn.Module):
        num_classes = 30

    model = torch.nn.Module()
    model.roi_head = torch.nn.Module()
    model.roi_head.bbox_head = Head()
    with pytest.raises(ValueError, match=r'model.roi_head.bbox_head.num_classes=2'):
        AdaptClassHeadHook._check_num_classes(model, ['a', 'b'])
    AdaptClassHeadHook._check_num_classes(model, [str(i) for i in range(30)])
