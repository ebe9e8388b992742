# ruff: noqa: C408  (OpenMMLab configs are written with dict(...))
# Runtime of the video-segmentation configs (mmseg's default runtime). The leaf configs set
#   default_scope = 'mmseg'
#   custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=8000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# no fixed `name`: the Runner names the visualizer after its run (config + timestamp). A
# fixed name makes every later Runner in the process reuse the first one's visualizer,
# whose scalars.json lives in the first run's folder (tools/compare.py trains several).
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
