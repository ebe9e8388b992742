"""AtomicCheckpointHook: a failed save keeps the previous checkpoint; exact resume."""

import os

import pytest
import torch
from fixtures.tiny_runner import Points, Regressor
from mmengine.fileio import LocalBackend
from mmengine.runner import Runner

import mmpsla  # noqa: F401  (registers the hooks)
from mmpsla.engine.hooks.atomic_checkpoint_hook import RNG_STATES_KEY


def _runner(work_dir, max_iters, resume=False, max_keep_ckpts=1, **checkpoint_kwargs):
    torch.manual_seed(0)
    return Runner(
        model=Regressor(noisy=True),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=Points(64),
            sampler=dict(type='DefaultSampler', shuffle=True, seed=1),
            batch_size=8,
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(
                type='AtomicCheckpointHook',
                interval=2,
                by_epoch=False,
                max_keep_ckpts=max_keep_ckpts,
                **checkpoint_kwargs,
            ),
            logger=dict(type='MainProcessLoggerHook', interval=1),
        ),
        randomness=dict(seed=0),
        # mmpsla's scope: a Runner without one makes 'mmengine' the current default scope
        # for the rest of the session, and later MODELS.build calls look there
        default_scope='mmdet',
        resume=resume,
        experiment_name=f'exp_{max_iters}_{int(resume)}_{os.path.basename(str(work_dir))}',
    )


def test_saves_atomically_prunes_after_saving_and_records_rng(tmp_path):
    _runner(tmp_path, max_iters=6).train()
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix == '.pth')
    assert names == ['iter_6.pth']  # max_keep_ckpts=1
    assert not list(tmp_path.glob('.*.tmp-*'))
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_6.pth')
    ckpt = torch.load(tmp_path / 'iter_6.pth')  # weights_only: the RNG states load too
    assert len(ckpt[RNG_STATES_KEY]) == 1
    assert set(ckpt[RNG_STATES_KEY][0]) >= {'python', 'numpy', 'torch'}


def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    runner = _runner(tmp_path, max_iters=4)
    real_put = LocalBackend.put

    def put_half_then_die(self, obj, filepath):
        if 'iter_4' in str(filepath):  # the second save dies half-way through its write
            real_put(self, obj[: len(obj) // 2], filepath)
            raise KeyboardInterrupt('killed while saving')
        real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    # mmengine's own hook deletes iter_2 before saving and writes iter_4 in place: it
    # would leave only a truncated iter_4.pth. Here iter_2 is intact and still named,
    # and the half-written file is a temporary that no one loads.
    assert not (tmp_path / 'iter_4.pth').exists()
    assert len(list(tmp_path.glob('.iter_4.pth.tmp-*'))) == 1
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')
    assert torch.load(tmp_path / 'iter_2.pth')['meta']['iter'] == 2


def test_resume_reproduces_an_uninterrupted_run_with_random_draws(tmp_path):
    straight = _runner(tmp_path / 'straight', max_iters=5)
    straight.train()
    _runner(tmp_path / 'part', max_iters=4).train()
    resumed = _runner(tmp_path / 'part', max_iters=5, resume=True)
    resumed.train()
    assert resumed.iter == 5
    expected = straight.model.state_dict()
    for name, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0)


def test_load_from_does_not_restore_random_state(tmp_path):
    _runner(tmp_path / 'a', max_iters=2).train()
    hook_cls = mmpsla.engine.AtomicCheckpointHook
    hook = hook_cls(interval=2, by_epoch=False)
    ckpt = torch.load(tmp_path / 'a' / 'iter_2.pth')
    hook.after_load_checkpoint(None, ckpt)

    class _FreshRun:  # a fine-tuning run starts at iteration 0
        iter = 0

    before = torch.get_rng_state()
    hook.before_train_iter(_FreshRun(), 0)
    assert torch.equal(torch.get_rng_state(), before)


def _checkpoint_hook(runner):
    return next(h for h in runner.hooks if isinstance(h, mmpsla.engine.AtomicCheckpointHook))


def _at_iter(runner, iteration):
    runner.train_loop._iter = iteration  # the step the best checkpoint is named after


def test_best_checkpoint_is_replaced_only_after_the_new_one_is_complete(tmp_path, monkeypatch):
    runner = _runner(tmp_path, max_iters=2, save_best='score', rule='greater')
    runner.train()
    hook = _checkpoint_hook(runner)

    _at_iter(runner, 2)
    hook._save_best_checkpoint(runner, {'score': 1.0})
    _at_iter(runner, 3)
    hook._save_best_checkpoint(runner, {'score': 0.5})  # not better: nothing written
    _at_iter(runner, 4)
    hook._save_best_checkpoint(runner, {'score': 2.0})  # better: new file, old one removed
    assert sorted(p.name for p in tmp_path.glob('best_*')) == ['best_score_iter_4.pth']
    assert runner.message_hub.get_info('best_score') == 2.0
    assert runner.message_hub.get_info('best_ckpt') == str(tmp_path / 'best_score_iter_4.pth')

    real_put = LocalBackend.put

    def put_half_then_die(self, obj, filepath):
        if 'best_score_iter_6' in str(filepath):
            real_put(self, obj[: len(obj) // 2], filepath)
            raise KeyboardInterrupt('killed while saving the best checkpoint')
        real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put_half_then_die)
    _at_iter(runner, 6)
    with pytest.raises(KeyboardInterrupt):
        hook._save_best_checkpoint(runner, {'score': 3.0})
    # mmengine's hook removes best_score_iter_4.pth first and writes iter_6 in place: a
    # kill here would leave one truncated best checkpoint. Here the previous one survives.
    assert sorted(p.name for p in tmp_path.glob('best_*')) == ['best_score_iter_4.pth']
    assert torch.load(tmp_path / 'best_score_iter_4.pth')['meta']['iter'] == 4
