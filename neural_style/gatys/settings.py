"""What one Gatys run is asked to do: built once from the command line's flags (cli/gatys_flags.py)
or by a caller of the Python API, frozen, and read by everything below. No MXNet, no argparse.

The field names are the flags' (argparse's dests), so a flag and the value it sets read alike."""
import dataclasses
from typing import Optional, Tuple

from neural_style.flag_values import FromFlags

# --lr when not given. Adam moves each pixel by about lr per step whatever the gradient's scale, so
# on pixels of about +-128 it needs a far larger rate than NAG, whose step is lr times the gradient.
# 5 did best after 300 epochs (on the tests' random weights: 64 px of 1, 3, 10, 30; 128 px of 2, 5,
# 10), where 10, jcjohnson/neural-style's Adam rate on the same 0-255 scale, oscillated.
DEFAULT_LR = {'nag': .001, 'adam': 5.}


@dataclasses.dataclass(frozen=True)
class GatysSettings(FromFlags):
    # the original's flags, with its defaults
    model: str = 'vgg19'
    content_image: str = 'input/IMG_4343.jpg'
    style_image: str = 'input/starry_night.jpg'
    stop_eps: float = .005
    content_weight: float = 10
    style_weight: float = 1
    tv_weight: float = 1e-2
    max_num_epochs: int = 1000
    max_long_edge: int = 600
    lr: Optional[float] = DEFAULT_LR['nag']  # None with lbfgs, which has no learning rate
    gpu: int = 0
    output_dir: str = 'output/'
    save_epochs: int = 50
    remove_noise: float = .02
    lr_sched_delay: int = 75
    lr_sched_factor: float = 0.9
    # beyond the original
    dtype: str = 'float32'
    seed: Optional[int] = None
    vgg_params: str = 'model/vgg19.params'
    overwrite: bool = False
    content_layers: Tuple[str, ...] = ('relu4_2',)
    style_layers: Tuple[str, ...] = ('relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1')
    init: str = 'noise'
    multires: Optional[Tuple[Tuple[int, Optional[int]], ...]] = None  # (long edge, epochs or None), coarse to fine
    style_blend_weights: Optional[Tuple[float, ...]] = None
    style_scale: float = 1.0
    original_colors: bool = False
    pooling: str = 'avg'
    optimizer: str = 'nag'
    lbfgs_num_correction: int = 10
    style_loss: str = 'gram'
    mrf_layers: Tuple[str, ...] = ('relu3_1', 'relu4_1')
    mrf_patch_size: int = 3
    mrf_stride: int = 2
    mrf_weight: float = 1.0
    mrf_rematch_every: int = 1
    print_epochs: int = 0
    preset: Optional[str] = None
    json: bool = False  # the tool's one JSON report on stdout (cli/report.py); the run is the same

    @property
    def stages(self):
        """[(long edge, epochs)] of each optimisation stage: one unless --multires."""
        return [(edge, self.max_num_epochs if epochs is None else epochs)
                for edge, epochs in self.multires or [(self.max_long_edge, self.max_num_epochs)]]

    @property
    def long_edge_flag(self):
        """The flag a size problem is reported against."""
        return '--multires' if self.multires else '--max-long-edge'

    @property
    def uses_mrf(self):
        return self.style_loss == 'mrf'
