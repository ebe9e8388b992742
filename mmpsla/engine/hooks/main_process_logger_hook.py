"""``LoggerHook`` whose test-metrics file has exactly one writer."""

import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook
from mmengine.registry import HOOKS

from mmpsla.utils.atomic_io import atomic_dump_json


@HOOKS.register_module()
class MainProcessLoggerHook(LoggerHook):
    """mmengine's ``LoggerHook``, except that rank 0 alone writes the test metrics.

    mmengine 0.10.7's ``LoggerHook.after_test_epoch`` dumps the test metrics to
    ``<work_dir>/<timestamp>/<timestamp>.json`` from *every* rank. All ranks share the
    timestamp (it is broadcast from rank 0), so in a distributed test they write the same
    file at the same time; their timing fields differ in length, and the file can end up
    as one rank's text with the tail of another's (invalid JSON). Here every rank still
    logs the metrics line, but only the main process writes the file, and it writes it
    atomically (temporary file + rename), so a reader never sees a partial file.

    Registered in mmengine's root ``HOOKS`` so that configs of every scope (mmdet, mmseg,
    mmtrack) find it; ``configs/_base_/default_runtime.py`` selects it and
    :func:`mmpsla.utils.use_single_writer_hooks` swaps it in for plain ``LoggerHook``
    entries of other configs. Arguments: those of ``LoggerHook``.
    """

    def after_test_epoch(self, runner, metrics=None) -> None:
        """Log the test metrics on every rank; write the metrics JSON on rank 0 only."""
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True
        )
        runner.logger.info(log_str)
        if is_main_process():
            atomic_dump_json(
                dict(self._process_tags(tag)), osp.join(runner.log_dir, self.json_log_path)
            )
