"""mmtrack 1.x VID configs on mmpsla: the ``mmtrack`` registry scope.

mmtrack 1.x (the last OpenMMLab video-perception release) needs mmcv < 2 and mmdet < 3;
its VID configs (``configs/vid/{dff,fgfa,selsa,temporal_roi_align}`` of its ``dev-1.x``
branch, ``default_scope='mmtrack'``) run unchanged on mmdet 3.3 once ``mmpsla`` is
imported: :mod:`.registry` adds an ``mmtrack`` child to each of mmdet's registries and
this package registers there the mmtrack names whose arguments differ from mmdet's
(``ImagenetVIDDataset``, ``PackTrackInputs``, ``LoadTrackAnnotations``,
``CocoVideoMetric``) or that mmdet renamed (``VideoSampler`` = mmdet's
``TrackImgSampler``). Every other name (``DFF``, ``FGFA``, ``SELSA``, ``FlowNetSimple``,
``EmbedAggregator``, ``SelsaRoIHead``, ``TemporalRoIAlign``, ``TrackDataPreprocessor``,
``TrackVisualizationHook``, ...) resolves through the parent registries to mmdet's or
mmpsla's module. Checkpoints saved by mmtrack (``detector.*``, ``motion.*``,
``aggregator.*``) load into mmpsla's DFF / FGFA / SELSA.

mmengine imports ``<scope>.registry`` before building from a scope; when no real
``mmtrack`` package is installed, ``mmtrack.registry`` is aliased to :mod:`.registry` in
``sys.modules`` (the ``mmtrack`` package itself is not created), so mmengine finds the
scope without warnings.
"""

import importlib.util
import sys

from mmdet.datasets.samplers import TrackImgSampler

from .. import datasets, models  # noqa: F401  (registers the modules aliased below)
from ..datasets.transforms.vid_ref_frame_sample import ref_img_sampler_to_transform
from . import registry
from .dataset import MMTrackImagenetVIDDataset
from .metrics import MMTrackCocoVideoMetric
from .transforms import MMTrackLoadTrackAnnotations, MMTrackPackTrackInputs

registry.DATA_SAMPLERS.register_module(name='VideoSampler', module=TrackImgSampler, force=True)

#: mmtrack 1.x names that resolve to mmpsla's / mmdet's module of the same name. They are
#: registered in the ``mmtrack`` registries themselves (not only found through the parent)
#: because mmengine looks an explicitly scoped name (``type='mmtrack.SelsaRoIHead'``, as
#: mmtrack's SELSA configs write) up in that scope's registry alone.
MMTRACK_NAMES = {
    'MODELS': (
        'DFF', 'FGFA', 'SELSA', 'FlowNetSimple', 'EmbedAggregator', 'SelsaAggregator',
        'SelsaRoIHead', 'SelsaBBoxHead', 'TemporalRoIAlign', 'SingleRoIExtractor',
        'TrackDataPreprocessor',
    ),
    'TRANSFORMS': ('TransformBroadcaster', 'LoadImageFromFile', 'Resize', 'RandomFlip'),
    'HOOKS': ('TrackVisualizationHook',),
    'VISUALIZERS': ('TrackLocalVisualizer', 'DetLocalVisualizer'),
}  # fmt: skip
for _registry_name, _names in MMTRACK_NAMES.items():
    _registry = getattr(registry, _registry_name)
    for _name in _names:
        _module = _registry.parent.get(_name)
        if _module is None:
            raise ImportError(f'mmtrack scope: {_name} is not registered in mmdet / mmpsla')
        _registry.register_module(name=_name, module=_module, force=True)

if importlib.util.find_spec('mmtrack') is None:
    sys.modules.setdefault('mmtrack.registry', registry)

__all__ = [
    'registry',
    'MMTrackImagenetVIDDataset',
    'MMTrackPackTrackInputs',
    'MMTrackLoadTrackAnnotations',
    'MMTrackCocoVideoMetric',
    'ref_img_sampler_to_transform',
]
