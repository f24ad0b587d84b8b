"""--preset fast: its defaults follow the long edge, explicit flags win, and the run logs the flags."""
import re

import nstyle
from conftest import run_nstyle


def test_fast_sets_lbfgs_coarse_to_fine_at_half_the_long_edge():
    args = nstyle.get_args(['--preset', 'fast'])
    assert (args.optimizer, args.multires, args.max_num_epochs, args.lr) == ('lbfgs', [(300, 100), (600, None)], 300,
                                                                              None)
    args = nstyle.get_args(['--max-long-edge', '301', '--preset', 'fast'])  # the order of the flags does not matter
    assert args.multires == [(150, 100), (301, None)]


def test_flags_given_explicitly_win_over_the_preset():
    args = nstyle.get_args(['--preset', 'fast', '--optimizer', 'nag', '--max-num-epochs', '7',
                            '--multires', '100:5,200'])
    assert (args.optimizer, args.multires, args.max_num_epochs, args.lr) == ('nag', [(100, 5), (200, None)], 7, 0.001)
    assert nstyle.describe_preset(args) == '--optimizer nag --multires 100:5,200 --max-num-epochs 7'
    # without --preset nothing changes: the original's defaults
    args = nstyle.get_args([])
    assert (args.optimizer, args.multires, args.max_num_epochs, args.preset) == ('nag', None, 1000, None)


def test_a_fast_run_logs_its_flags_and_runs_both_stages_with_lbfgs(tmp_path, vgg_params):
    result = run_nstyle(['--gpu', '-1', '--preset', 'fast', '--max-long-edge', '48', '--max-num-epochs', '3',
                         '--seed', '0', '--vgg-params', vgg_params, '--output_dir', tmp_path])
    assert result.returncode == 0, result.stderr
    assert '--preset fast: --optimizer lbfgs --multires 24:100,48 --max-num-epochs 3' in result.stderr
    # both stages ran, the coarse one at 24x16 (just enough for relu5_1, 16 px a side)
    stages = re.findall(r'stage (\d) of 2: long edge (\d+)', result.stderr)
    assert stages == [('1', '24'), ('2', '48')]
    assert len(re.findall(r'L-BFGS stopped after', result.stderr)) == 2
    assert (tmp_path / 'final.jpg').exists()
