"""torch>=2.6 ``weights_only`` loading of real mmengine Runner checkpoints."""

import copy
import os
import pickle
import subprocess

import pytest
import torch
from fixtures.tiny_runner import Points, Regressor
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

import mmpsla  # noqa: F401  (installs the allow-list)
from mmpsla.utils import history_buffer_method


def _runner(work_dir, max_iters, resume=False, load_from=None):
    torch.manual_seed(0)  # the model is built before the Runner seeds anything
    return Runner(
        model=Regressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=Points(),
            sampler=dict(type='DefaultSampler', shuffle=True, seed=1),
            batch_size=4,
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[3], gamma=0.5, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=4, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1),
        ),
        randomness=dict(seed=0),
        # mmpsla's scope: a Runner without one makes 'mmengine' the current default scope
        # for the rest of the session, and later MODELS.build calls look there
        default_scope='mmdet',
        resume=resume,
        load_from=load_from,
        experiment_name=f'exp_{max_iters}_{int(resume)}',
    )


def test_runner_checkpoint_loads_with_weights_only(tmp_path):
    _runner(tmp_path, max_iters=4).train()
    ckpt = torch.load(tmp_path / 'iter_4.pth')  # torch>=2.6 default: weights_only=True
    buffers = ckpt['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert len(buffers['train/loss'].data[0]) == 4
    assert buffers['train/lr'].current() == pytest.approx(0.025)  # halved after iter 3
    assert ckpt['meta']['iter'] == 4


def test_resume_reproduces_the_next_step(tmp_path):
    straight = _runner(tmp_path / 'straight', max_iters=6)
    straight.train()
    expected = copy.deepcopy(straight.model.state_dict())

    _runner(tmp_path / 'part', max_iters=4).train()
    resumed = _runner(tmp_path / 'part', max_iters=6, resume=True)
    resumed.train()
    assert resumed.iter == 6
    for name, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6)


class _GetattrPayload:
    """Pickles as ``getattr(owner, name)``, as an attacker's checkpoint would."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return (getattr, (self.owner, self.name))


@pytest.mark.parametrize(
    'owner,name',
    [(HistoryBuffer, '__init__'), (HistoryBuffer, 'update'), (subprocess.Popen, '__init__')],
)
def test_other_getattr_calls_are_refused(tmp_path, owner, name):
    path = tmp_path / 'evil.pth'
    torch.save({'payload': _GetattrPayload(owner, name)}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_restricted_getattr_resolves_only_statistics_methods():
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        history_buffer_method(os, 'system')
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        history_buffer_method(HistoryBuffer, '__init__')
    assert history_buffer_method(HistoryBuffer, 'mean') is HistoryBuffer.mean


def test_disallowed_type_is_not_reported_as_a_damaged_file(tmp_path):
    """A complete checkpoint with a type outside the allow-list keeps torch's own error."""
    from mmengine.runner import CheckpointLoader

    from mmpsla.utils import CheckpointLoadError

    path = tmp_path / 'other_type.pth'
    torch.save({'meta': Points()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Unsupported global') as info:
        CheckpointLoader.load_checkpoint(str(path))
    assert not isinstance(info.value, CheckpointLoadError)
