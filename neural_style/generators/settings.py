"""What the feed-forward generators' tools are asked to do (end_to_end/boost_inference.py's and
boost_train.py's flags), frozen, built once at the command line's edge. No MXNet."""
import dataclasses
from typing import Optional, Tuple

from neural_style.flag_values import FromFlags


@dataclasses.dataclass(frozen=True)
class InferenceSettings(FromFlags):
    model_dir: str
    content_image: str                    # an image, or a folder of images
    checkpoint: Optional[str] = None
    output_dir: str = 'output/end_to_end'
    size: Optional[Tuple[int, int]] = None  # (h, w); None: --long-edge, or the original's 480x640
    long_edge: Optional[int] = None
    seed: Optional[int] = None
    gpu: int = 0
    dtype: str = 'float32'
    remove_noise: float = 0.02
    generator: Optional[str] = None
    overwrite: bool = False
    ray: Optional[str] = None
    cpus_per_job: float = 1
    gpus_per_job: float = 0
    json: bool = False                    # the one JSON report on stdout (cli/report.py)


@dataclasses.dataclass(frozen=True)
class TrainingSettings(FromFlags):
    data_dir: str
    style_image: str
    generator: str = 'v3chain'
    vgg_params: str = 'model/vgg19.params'
    size: Optional[int] = None            # the defaults of these depend on --generator (boost_train.DEFAULTS)
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    model_dir: str = 'model'
    init_model: Optional[str] = None
    style_weight: float = 1.2
    content_weight: float = 10
    content_layer: Optional[str] = None
    tv_weight: float = 0.01
    lr: Optional[float] = None
    momentum: Optional[float] = None
    wd: Optional[float] = None
    clip_gradient: Optional[float] = None
    clip_norm: Optional[float] = None
    save_every: int = 1000
    seed: Optional[int] = None
    gpu: int = 0
    dtype: str = 'float32'
    json: bool = False                    # the one JSON report on stdout (cli/report.py)
