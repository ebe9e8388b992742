from .psla_key_frame_schedule import PSLAKeyFrameSchedule
from .psla_train_frame_sample import PSLATrainFrameSample
from .vid_ref_frame_sample import VIDRefFrameSample

__all__ = ['PSLATrainFrameSample', 'PSLAKeyFrameSchedule', 'VIDRefFrameSample']
