"""--preset fast: its defaults, explicit flags win, and the run logs the flags."""
import re

import nstyle
from conftest import run_nstyle
from neural_style.cli.presets import describe_preset


def test_fast_sets_lbfgs_from_the_content_with_its_budget():
    args = nstyle.get_args(['--preset', 'fast'])
    assert (args.optimizer, args.init, args.lbfgs_num_correction, args.multires, args.max_num_epochs, args.lr) == \
        ('lbfgs', 'content', 20, None, 80, None)
    args = nstyle.get_args(['--max-long-edge', '301', '--preset', 'fast'])  # the order of the flags does not matter
    assert (args.optimizer, args.max_long_edge, args.max_num_epochs) == ('lbfgs', 301, 80)


def test_flags_given_explicitly_win_over_the_preset():
    args = nstyle.get_args(['--preset', 'fast', '--optimizer', 'nag', '--max-num-epochs', '7'])
    assert (args.optimizer, args.max_num_epochs, args.lr, args.init) == ('nag', 7, 0.001, 'content')
    assert describe_preset(args) == ('--optimizer nag --init content --lbfgs-num-correction 20 '
                                     '--max-num-epochs 7 --dtype auto')
    # without --preset nothing changes: the original's defaults
    args = nstyle.get_args([])
    assert (args.optimizer, args.multires, args.max_num_epochs, args.preset, args.init) == \
        ('nag', None, 1000, None, 'noise')


def test_a_fast_run_logs_its_flags_and_runs_lbfgs(tmp_path, vgg_params):
    result = run_nstyle(['--gpu', '-1', '--preset', 'fast', '--max-long-edge', '48', '--max-num-epochs', '3',
                         '--seed', '0', '--vgg-params', vgg_params, '--output_dir', tmp_path])
    assert result.returncode == 0, result.stderr
    assert ('--preset fast: --optimizer lbfgs --init content --lbfgs-num-correction 20 --max-num-epochs 3 '
            '--dtype auto (flags given explicitly win)') in result.stderr
    # --dtype auto says what it chose on this CPU, and why, in one line
    assert re.search(r'--dtype auto: (float32|bfloat16): ', result.stderr)
    # L-BFGS ran with the explicit budget of 3 function evaluations, not the preset's 80
    stopped = re.findall(r'L-BFGS stopped after (\d+) iterations and (\d+) function evaluations', result.stderr)
    assert len(stopped) == 1 and int(stopped[0][1]) == 3
    assert (tmp_path / 'final.jpg').exists()
