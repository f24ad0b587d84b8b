"""The Python API (neural_style/api.py) gives what the command line gives: the same image as
nstyle.py's final.jpg for the same flags and seed, every epoch's image and losses to on_epoch, and
a stop between epochs. Seeded random weights (tests/weights.py), tiny images."""
import dataclasses
import threading

import numpy as np
import pytest
from skimage import io

import nstyle
from conftest import base_args
from neural_style import api
from neural_style.errors import NstyleError
from neural_style.files.images import read_rgb_image


def settings_for(tmp_path, vgg_params, small, *extra):
    return nstyle.get_args([str(a) for a in base_args(tmp_path, vgg_params, small, 6) + ['--seed', '0', '--save-epochs',
                                                                                       '3'] + list(extra)])


def test_gatys_gives_nstyles_final_image(tmp_path, vgg_params, small):
    settings = settings_for(tmp_path / 'cli', vgg_params, small)
    nstyle.train_nstyle(settings)
    seen = []
    result = api.gatys(str(small['content']), read_rgb_image(str(small['style']), 'style'), settings,
                       on_epoch=seen.append)
    # final.jpg is the JPEG of the same pixels: encoded the same way, the bytes are the same
    io.imsave(str(tmp_path / 'api.jpg'), result.image, check_contrast=False)
    assert (tmp_path / 'api.jpg').read_bytes() == (tmp_path / 'cli' / 'final.jpg').read_bytes()
    assert [epoch.epoch for epoch in seen] == [1, 2, 3, 4, 5, 6]
    assert all(epoch.image.shape == result.image.shape and epoch.image.dtype == np.uint8 for epoch in seen)
    assert np.array_equal(seen[-1].image, result.image)
    assert [set(losses) for losses in result.losses] == [{'content', 'style', 'tv'}] * 6
    assert seen[-1].epochs_total == 6
    assert list(tmp_path.iterdir()) == [tmp_path / 'cli', tmp_path / 'api.jpg']  # the API wrote no file


def test_stop_ends_after_the_epoch_it_is_in(tmp_path, vgg_params, small):
    settings = dataclasses.replace(settings_for(tmp_path, vgg_params, small), stop_eps=0, max_num_epochs=50)
    stop = threading.Event()
    seen = []

    def on_epoch(epoch):
        seen.append(epoch.epoch)
        if epoch.epoch == 2:
            stop.set()

    result = api.gatys(str(small['content']), str(small['style']), settings, on_epoch=on_epoch, stop=stop)
    assert seen == [1, 2] and result.stopped and len(result.losses) == 2


def test_a_preset_is_an_overlay_and_explicit_values_win():
    fast = api.with_preset(api.GatysSettings(), 'fast')
    assert (fast.optimizer, fast.init, fast.lbfgs_num_correction, fast.max_num_epochs) == ('lbfgs', 'content', 20, 80)
    assert fast.lr is None  # L-BFGS has no learning rate
    mine = api.with_preset(api.GatysSettings(max_num_epochs=7), 'fast')
    assert mine.max_num_epochs == 7


def test_a_wrong_array_is_one_error(vgg_params):
    with pytest.raises(NstyleError, match=r'content: expected an \(h, w, 3\) uint8 array'):
        api.gatys(np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8),
                  api.GatysSettings(vgg_params=vgg_params, gpu=-1))
