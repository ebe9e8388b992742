"""mmpsla: Progressive Sparse Local Attention video object detection for OpenMMLab.

``import mmpsla`` registers every dataset, transform, model, metric and hook of the
package into mmdet's registries, so a config only needs::

    custom_imports = dict(imports=['mmpsla'], allow_failed_imports=False)

``mmpsla.ops`` needs torch alone; the OpenMMLab part is imported only when mmdet is
installed (a GPU box with nothing but torch can still build and test the operator).
"""

import importlib.util

from .version import __version__

HAS_OPENMMLAB = importlib.util.find_spec('mmdet') is not None

if HAS_OPENMMLAB:
    # Registers every module; `utils` also allow-lists mmengine checkpoint types for
    # torch.load(weights_only=True).
    from . import apis, datasets, engine, evaluation, models, utils  # noqa: F401

__all__ = ['__version__', 'HAS_OPENMMLAB']
