# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Runtime shared by every mmpsla config. The leaf configs set
#   default_scope = 'mmdet'
#   custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
# (dataset bases set them too; mmengine refuses the same key in two bases).

# MainProcessLoggerHook / AtomicCheckpointHook (mmpsla.engine): mmengine's LoggerHook and
# CheckpointHook, except that in a distributed run the test metrics JSON is written by
# rank 0 alone, and checkpoints and `last_checkpoint` are written atomically (a run killed
# while saving keeps its previous checkpoint) with every rank's random state for an exact
# --resume.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='MainProcessLoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=10000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='TrackVisualizationHook', draw=False),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # timeout (s): a collective that waits longer (e.g. for a dead process) raises
    dist_cfg=dict(backend='nccl', timeout=1800),
)

vis_backends = [dict(type='LocalVisBackend')]
# no fixed `name`: the Runner names the visualizer after its run (config + timestamp). A
# fixed name makes every later Runner in the process reuse the first one's visualizer,
# whose scalars.json lives in the first run's folder (tools/compare.py trains several).
visualizer = dict(type='TrackLocalVisualizer', vis_backends=vis_backends)

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
