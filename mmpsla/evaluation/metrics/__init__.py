from .vid_coco_metric import VIDCocoMetric
from .vid_metric import VIDMetric

__all__ = ['VIDMetric', 'VIDCocoMetric']
