"""The ``mmtrack`` registry scope: one child of each of mmdet's registries.

mmtrack 1.x's configs set ``default_scope='mmtrack'`` and name their modules without a
scope (``type='DFF'``, ``type='VideoSampler'``) or with ``mmtrack.`` / ``mmdet.``
prefixes. mmengine builds them from the registry of the default scope and falls back to
its parents, so each ``mmtrack`` registry here is a *child of mmdet's*: every name mmdet
3.3 (and mmpsla, which registers into mmdet) already has -- ``TrackDataPreprocessor``,
``TransformBroadcaster``, ``RandomFlip``, ``TrackVisualizationHook``,
``TrackLocalVisualizer``, ``DetLocalVisualizer``, ``DFF``, ``FGFA``, ``SELSA``,
``FlowNetSimple``, ``EmbedAggregator``, ``SelsaAggregator``, ``SelsaRoIHead``,
``TemporalRoIAlign`` ... -- resolves to that module, and the few mmtrack names whose
meaning differs from mmdet's (``ImagenetVIDDataset``, ``PackTrackInputs``,
``LoadTrackAnnotations``, ``CocoVideoMetric``) or that mmdet renamed (``VideoSampler``)
are registered here by :mod:`mmpsla.mmtrack_compat`.
"""

import mmdet.registry as _mmdet_registry
from mmengine.registry import Registry

SCOPE = 'mmtrack'
#: Where mmengine imports the scope's modules from when it first looks a name up.
LOCATIONS = ['mmpsla.mmtrack_compat']


def _child(parent: Registry) -> Registry:
    """The ``mmtrack`` child of ``parent`` (created once)."""
    existing = parent._children.get(SCOPE)
    if existing is not None:
        return existing
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=LOCATIONS)


RUNNERS = _child(_mmdet_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_mmdet_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(_mmdet_registry.LOOPS)
HOOKS = _child(_mmdet_registry.HOOKS)
DATASETS = _child(_mmdet_registry.DATASETS)
DATA_SAMPLERS = _child(_mmdet_registry.DATA_SAMPLERS)
TRANSFORMS = _child(_mmdet_registry.TRANSFORMS)
MODELS = _child(_mmdet_registry.MODELS)
MODEL_WRAPPERS = _child(_mmdet_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(_mmdet_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(_mmdet_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(_mmdet_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(_mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(_mmdet_registry.PARAM_SCHEDULERS)
METRICS = _child(_mmdet_registry.METRICS)
TASK_UTILS = _child(_mmdet_registry.TASK_UTILS)
VISUALIZERS = _child(_mmdet_registry.VISUALIZERS)
VISBACKENDS = _child(_mmdet_registry.VISBACKENDS)
LOG_PROCESSORS = _child(_mmdet_registry.LOG_PROCESSORS)
