"""What a video run is asked to do (stylize_video.py's flags): nstyle.py's settings for each frame,
and the video's own. Frozen; built once at the command line's edge. No MXNet."""
import dataclasses
from typing import Optional, Tuple

from neural_style.gatys.settings import GatysSettings


@dataclasses.dataclass(frozen=True)
class VideoSettings(GatysSettings):
    input: str = ''                       # a video file, or a folder of frames
    output: str = ''                      # OUT.mp4 (and OUT_frames/), or a folder
    method: str = 'optimize'              # optimize (Gatys per frame) or end_to_end (the generators)
    model_dir: Optional[str] = None       # with end_to_end: the generators' folder
    temporal_weight: float = 100.0
    temporal_blend: float = 0.5           # a one-pass --method: the warped previous result's share
    frames: Optional[Tuple[int, Optional[int]]] = None  # (A, B): frames A ... B-1
    fps: float = 25.0                     # a folder of frames' rate
    no_audio: bool = False
    json: bool = False
    verbose: bool = False
    ray: Optional[str] = None             # --ray's address ('' a local Ray), None: no cluster
    cpus_per_job: float = 1
    gpus_per_job: float = 0
    style: Optional[Tuple[Tuple[int, float], ...]] = None  # --method multistyle: (index, weight) pairs
    strength: float = 1.0                 # --method multistyle, arbitrary
    alpha: float = 1.0                    # --method wct, adain
    levels: int = 5                       # --method wct
    weights_dir: Optional[str] = None     # a one-pass --method's converted weights
    size: Optional[Tuple[int, int]] = None  # (h, w) the frames are stylised at: set once the clip is open
