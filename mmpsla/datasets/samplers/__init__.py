from .target_frame_sampler import TargetFrameSampler
from .video_lockstep_batch_sampler import VideoLockstepBatchSampler

__all__ = ['TargetFrameSampler', 'VideoLockstepBatchSampler']
