"""The original's 16 flags with their names, types and defaults (SPEC's table), plus ours."""
import dataclasses
import subprocess
import sys

import pytest

from neural_style.cli.gatys_flags import parse_gatys_flags
from neural_style.flag_values import frozen

import nstyle
from conftest import PROJECT

# SPEC: flag, type, default
ORIGINAL_FLAGS = [
    ('--model', str, 'vgg19'),
    ('--content-image', str, 'input/IMG_4343.jpg'),
    ('--style-image', str, 'input/starry_night.jpg'),
    ('--stop-eps', float, 0.005),
    ('--content-weight', float, 10),
    ('--style-weight', float, 1),
    ('--tv-weight', float, 0.01),
    ('--max-num-epochs', int, 1000),
    ('--max-long-edge', int, 600),
    ('--lr', float, 0.001),
    ('--gpu', int, 0),
    ('--output_dir', str, 'output/'),
    ('--save-epochs', int, 50),
    ('--remove-noise', float, 0.02),
    ('--lr-sched-delay', int, 75),
    ('--lr-sched-factor', float, 0.9),
]
NEW_FLAGS = [('--seed', int, None), ('--vgg-params', str, 'model/vgg19.params'), ('--overwrite', bool, False)]
LAYER_FLAGS = [('--content-layers', list, ['relu4_2']),
               ('--style-layers', list, ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'])]
NEW_FLAGS += LAYER_FLAGS
# beyond the original (issue 6), each off by default
OPTION_FLAGS = [('--init', str, 'noise'), ('--multires', list, None), ('--jobs', str, None)]
NEW_FLAGS += OPTION_FLAGS + [('--dtype', str, 'float32')]  # issue 3
STYLE_FLAGS = [('--style-blend-weights', list, None), ('--style-scale', float, 1.0),
               ('--original-colors', bool, False), ('--pooling', str, 'avg')]
NEW_FLAGS += STYLE_FLAGS
NEW_FLAGS += [('--optimizer', str, 'nag'), ('--lbfgs-num-correction', int, 10), ('--print-epochs', int, 0)]
MRF_FLAGS = [('--style-loss', str, 'gram'), ('--mrf-layers', list, ['relu3_1', 'relu4_1']), ('--mrf-patch-size', int, 3),
             ('--mrf-stride', int, 2), ('--mrf-weight', float, 1.0), ('--mrf-rematch-every', int, 1)]  # issue 13
NEW_FLAGS += MRF_FLAGS
NEW_FLAGS += [('--ray', str, None), ('--cpus-per-job', float, 1), ('--gpus-per-job', float, 0)]  # issue 14
NEW_FLAGS += [('--preset', str, None)]  # issue 15
NEW_FLAGS += [('--json', bool, False)]  # issue 24


def dest(flag):
    return flag.lstrip('-').replace('-', '_')


def parsed(argv):
    """Every flag's value as nstyle.py parses it: the run's GatysSettings and batch mode's settings
    together, by the flags' dests (lists are tuples in the frozen settings)."""
    settings, batch = parse_gatys_flags(argv)
    return dict(dataclasses.asdict(settings), **dataclasses.asdict(batch))


def test_defaults_are_the_originals():
    values = parsed([])
    for flag, _, default in ORIGINAL_FLAGS + NEW_FLAGS:
        assert values[dest(flag)] == (tuple(default) if isinstance(default, list) else default), flag
    assert set(values) == {dest(flag) for flag, _, _ in ORIGINAL_FLAGS + NEW_FLAGS}


@pytest.mark.parametrize('flag,kind,default', ORIGINAL_FLAGS + NEW_FLAGS[:2])
def test_each_flag_parses_to_its_type(flag, kind, default):
    text = {str: 'vgg19' if flag == '--model' else 'some/path', float: '0.5', int: '7'}[kind]
    value = getattr(nstyle.get_args([flag, text]), dest(flag))
    assert type(value) is kind and value == kind(text)


def test_defects_of_the_original_flags_are_fixed():
    # defect 1: the default model name was rejected by choices=['vgg']
    assert nstyle.get_args(['--model', 'vgg19']).model == 'vgg19'
    # defect 2: --lr-sched-factor was type=int, so 0.8 was rejected
    assert nstyle.get_args(['--lr-sched-factor', '0.8']).lr_sched_factor == 0.8
    assert nstyle.get_args(['--overwrite']).overwrite is True


def test_help_lists_every_flag():
    result = subprocess.run([sys.executable, 'nstyle.py', '-h'], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0
    for flag, _, _ in ORIGINAL_FLAGS + NEW_FLAGS:
        assert flag in result.stdout, flag
    assert 'Traceback' not in result.stderr


# every flag with a value other than its default, and what it parses to
EVERY_FLAG = {
    '--model': ('vgg19', 'vgg19'), '--content-image': ('a.jpg', 'a.jpg'), '--style-image': ('b.jpg', 'b.jpg'),
    '--stop-eps': ('0.25', 0.25), '--content-weight': ('3', 3.0), '--style-weight': ('0.5', 0.5),
    '--tv-weight': ('-1', -1.0), '--max-num-epochs': ('0', 0), '--max-long-edge': ('64', 64), '--lr': ('2.5', 2.5),
    '--gpu': ('-1', -1), '--dtype': ('bfloat16', 'bfloat16'), '--output_dir': ('out', 'out'),
    '--save-epochs': ('3', 3), '--remove-noise': ('0', 0.0), '--lr-sched-delay': ('9', 9),
    '--lr-sched-factor': ('1', 1.0), '--seed': ('-5', -5), '--vgg-params': ('w.params', 'w.params'),
    '--overwrite': (None, True), '--content-layers': ('relu1_1, relu2_2', ['relu1_1', 'relu2_2']),
    '--style-layers': ('relu3_1', ['relu3_1']), '--init': ('content', 'content'),
    '--multires': ('100:5,200', [(100, 5), (200, None)]), '--jobs': ('jobs.csv', 'jobs.csv'),
    '--style-blend-weights': ('3,7', [3.0, 7.0]), '--style-scale': ('0.5', 0.5), '--original-colors': (None, True),
    '--pooling': ('max', 'max'), '--optimizer': ('adam', 'adam'), '--print-epochs': ('4', 4),
    '--style-loss': ('mrf', 'mrf'), '--mrf-layers': ('relu2_1,relu5_1', ['relu2_1', 'relu5_1']),
    '--mrf-patch-size': ('5', 5), '--mrf-stride': ('1', 1), '--mrf-weight': ('0.25', 0.25),
    '--mrf-rematch-every': ('10', 10), '--lbfgs-num-correction': ('50', 50),
    '--preset': ('fast', 'fast'), '--ray': ('auto', 'auto'), '--cpus-per-job': ('2', 2.0), '--gpus-per-job': ('0.5', 0.5),
    '--json': (None, True),
}


@pytest.mark.parametrize('flag', sorted(EVERY_FLAG))
def test_every_flag_parses(flag):
    text, expected = EVERY_FLAG[flag]
    # the MRF loss's own flags are refused without --style-loss mrf: given with it, against it alone
    base = ['--style-loss', 'mrf'] if flag.startswith('--mrf-') else []
    values = parsed(base + [flag] + ([text] if text is not None else []))
    assert values[dest(flag)] == frozen(expected)
    others = parsed(base)
    if flag == '--preset':  # a preset is other defaults: exactly those of its table
        from neural_style.cli.presets import preset_defaults
        others.update(preset_defaults('fast'))
    assert {k: v for k, v in values.items() if k != dest(flag) and k != 'lr'} == \
           {k: v for k, v in others.items() if k != dest(flag) and k != 'lr'}


def test_every_flag_is_in_the_table():
    assert set(EVERY_FLAG) == {flag for flag, _, _ in ORIGINAL_FLAGS + NEW_FLAGS}


def test_the_mrf_flags_without_the_mrf_loss_are_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        parse_gatys_flags(['--mrf-weight', '2', '--mrf-stride', '1'])
    assert stop.value.code == 2
    line = capsys.readouterr().err.strip()
    assert line.endswith('error: --mrf-stride, --mrf-weight are not used without --style-loss mrf; leave them out '
                         '(see %s -h)' % line.split(':')[0])
