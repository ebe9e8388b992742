"""``CheckpointHook`` whose checkpoints survive a kill at any moment and resume exactly."""

from __future__ import annotations

import glob
import os
import os.path as osp
from typing import List, Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from mmpsla.utils.atomic_io import atomic_write_text, commit_file, temp_path_for
from mmpsla.utils.rng_state import capture_rng_state, restore_rng_state

#: Key of the per-rank random states in a checkpoint saved by this hook.
RNG_STATES_KEY = 'rng_states'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with atomic saves and an exact ``--resume``.

    mmengine 0.10.7 writes ``iter_N.pth`` in place, rewrites ``last_checkpoint`` in place,
    and deletes the oldest kept checkpoint *before* writing the new one. A process killed
    while saving (out of memory, pre-empted job, SIGKILL) then leaves a truncated
    ``iter_N.pth`` that ``last_checkpoint`` may already name, and with
    ``max_keep_ckpts=1`` no loadable checkpoint at all. Here, for checkpoints on the local
    file system:

    1. rank 0 writes ``.iter_N.pth.tmp-<pid>``, ``fsync``\\ s it and renames it to
       ``iter_N.pth`` (atomic);
    2. then rewrites ``last_checkpoint`` atomically (temporary file + rename);
    3. only then deletes the checkpoints beyond ``max_keep_ckpts``.

    A kill at any point leaves ``last_checkpoint`` naming a complete checkpoint.

    The checkpoint also stores every rank's random state (Python ``random``, numpy,
    torch) under ``'rng_states'``; when a run resumes from it, each rank restores its own
    state just before the first resumed iteration (after the train loop has replayed the
    data loader up to that iteration), so the resumed step draws the same numbers (RoI
    sampling, frame sampling, flips) as the uninterrupted run would. States are restored
    only when the world size is unchanged and only on resume, not on ``load_from``.

    Best checkpoints (``save_best``) follow the same rule: mmengine deletes the previous
    ``best_*.pth`` and then writes the new one in place, so a kill in between leaves no
    best checkpoint at all. Here the new one is written to a temporary file and renamed,
    and only then is the previous best deleted.

    Remote back ends (``out_dir`` on object storage) are saved by mmengine's code
    unchanged. Arguments: those of ``CheckpointHook``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending_rng_states: Optional[List[dict]] = None
        self._resume_rng: Optional[tuple] = None  # (iteration, per-rank states)

    def before_train(self, runner) -> None:
        """Set up as mmengine does, then remove temporary files left by a killed save."""
        super().before_train(runner)
        if is_main_process() and self._is_local():
            for stray in glob.glob(osp.join(self.out_dir, '.*.tmp-*')):
                os.remove(stray)

    def _is_local(self) -> bool:
        return isinstance(self.file_backend, LocalBackend)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save ``filename_tmpl.format(step)`` atomically, then prune old checkpoints."""
        # Collective: every rank reaches here (the base hook calls this on all ranks).
        self._pending_rng_states = all_gather_object(capture_rng_state())
        if not self._is_local():
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_atomically(
            runner,
            ckpt_filename,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            **self.args,
        )
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in stale:
            old = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if osp.isfile(old) and old != self.last_ckpt:
                os.remove(old)

    def _save_atomically(self, runner, filename: str, **save_kwargs) -> None:
        """``runner.save_checkpoint`` into ``out_dir/filename`` via a temporary file.

        ``runner.save_checkpoint`` writes on rank 0 only (``master_only``); rank 0 then
        ``fsync``\\ s the temporary file and renames it to ``filename``.
        """
        tmp_filename = osp.basename(temp_path_for(osp.join(self.out_dir, filename)))
        runner.save_checkpoint(
            self.out_dir,
            tmp_filename,
            self.file_client_args,
            backend_args=self.backend_args,
            **save_kwargs,
        )
        if is_main_process():
            commit_file(osp.join(self.out_dir, tmp_filename), osp.join(self.out_dir, filename))

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """Save ``best_<key>_<step>.pth`` atomically for every improved key indicator,
        then delete the best checkpoint it replaces.

        Same bookkeeping as mmengine's hook (``best_score[_<key>]`` and
        ``best_ckpt[_<key>]`` in the message hub, resumable); only the order differs:
        the new file is complete before the old one goes.
        """
        if not self.save_best or not self._is_local():
            super()._save_best_checkpoint(runner, metrics)
            return
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [next(iter(metrics))])
        step = runner.epoch if self.by_epoch else runner.iter
        step_name = self.filename_tmpl.format(step)
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        single = len(self.key_indicators) == 1
        updated = False
        for key, rule in zip(self.key_indicators, self.rules):
            score_key = 'best_score' if single else f'best_score_{key}'
            best = runner.message_hub.get_info(score_key, self.init_value_map[rule])
            score = metrics[key]
            if score is None or not self.is_better_than[key](score, best):
                continue
            updated = True
            runner.message_hub.update_info(score_key, score)
            old_path = self.best_ckpt_path if single else self.best_ckpt_path_dict[key]
            name = f'best_{key}_{step_name}'.replace('/', '_')
            new_path = osp.join(self.out_dir, name)
            self._save_atomically(
                runner,
                name,
                save_optimizer=False,
                save_param_scheduler=False,
                meta=meta,
                by_epoch=False,
            )
            if single:
                self.best_ckpt_path = new_path
            else:
                self.best_ckpt_path_dict[key] = new_path
            runner.message_hub.update_info('best_ckpt' if single else f'best_ckpt_{key}', new_path)
            if is_main_process() and old_path and old_path != new_path and osp.isfile(old_path):
                os.remove(old_path)
                runner.logger.info(f'The previous best checkpoint {old_path} is removed')
            runner.logger.info(
                f'The best checkpoint with {score:0.4f} {key} at {step} '
                f'{"epoch" if self.by_epoch else "iter"} is saved to {name}.'
            )
        # as in mmengine: save the latest checkpoint again so that it records the new best
        # (a resumed run must know which best file to replace next)
        if updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, step, meta)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the random states gathered from every rank in the checkpoint."""
        if self._pending_rng_states is not None:
            checkpoint[RNG_STATES_KEY] = self._pending_rng_states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remember the loaded random states until the first resumed iteration."""
        states = checkpoint.get(RNG_STATES_KEY)
        iteration = checkpoint.get('meta', {}).get('iter')
        if states is not None and iteration is not None:
            self._resume_rng = (int(iteration), states)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """On the first iteration after a resume, restore this rank's random state."""
        resume = self._resume_rng
        if resume is None:
            return
        self._resume_rng = None
        iteration, states = resume
        if runner.iter != iteration or iteration == 0:
            return  # load_from (fine-tuning), not a resume
        if len(states) != get_world_size():
            runner.logger.warning(
                f'{type(self).__name__}: the checkpoint holds the random states of '
                f'{len(states)} processes, this run has {get_world_size()}; they are not '
                'restored, so the resumed run draws different random numbers'
            )
            return
        restore_rng_state(states[get_rank()])
