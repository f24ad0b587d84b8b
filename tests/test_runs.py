"""Where a run starts (--init), coarse-to-fine stages (--multires) and batch mode (--jobs):
the image each stage starts from, the sizes the stages run at, and a batch whose bad rows
do not stop the others, with its results equal to single runs."""
import csv
import os

import numpy as np
import pytest
from skimage import io, transform

import model_vgg19
import nstyle
from neural_style.files import images
import conftest
from conftest import CONTENT, STYLE, record_nag_steps, run_nstyle
from neural_style.files.images import PostprocessImage, PreprocessContentImage

SMALL = ['--gpu', '-1', '--max-long-edge', '32', '--seed', '0', '--content-image', CONTENT, '--style-image', STYLE]


def args_for(out_dir, vgg_params, *extra):
    return conftest.args_for(SMALL, out_dir, vgg_params, *extra)


def images_before_steps(monkeypatch):
    """The image before each NAG step, as numpy."""
    return record_nag_steps(monkeypatch, lambda weight, grad: weight.asnumpy())


# ---------------------------------------------------------------- --init

def test_init_content_starts_at_the_content_image(tmp_path, vgg_params, monkeypatch):
    seen = images_before_steps(monkeypatch)
    nstyle.train_nstyle(args_for(tmp_path, vgg_params, '--init', 'content', '--max-num-epochs', '2', '--stop-eps', '0'))
    expected = PreprocessContentImage(CONTENT, 32)  # what the content loss compares with
    assert seen[0].shape == expected.shape == (1, 3, 21, 32)
    np.testing.assert_allclose(seen[0], expected, rtol=0, atol=1e-4)
    assert not np.allclose(seen[1], seen[0], atol=1e-2)  # and it moves from there


def test_init_noise_is_the_default_and_is_small(tmp_path, vgg_params, monkeypatch):
    seen = images_before_steps(monkeypatch)
    nstyle.train_nstyle(args_for(tmp_path, vgg_params, '--max-num-epochs', '1'))
    assert nstyle.get_args([]).init == 'noise'
    assert np.abs(seen[0]).max() <= 0.1 and seen[0].std() > 0.05  # uniform(-0.1, 0.1)


def test_init_from_a_checkpoint_writes_back_the_same_pixels(tmp_path, vgg_params, monkeypatch):
    """Resuming: an image of the content's size is taken pixel for pixel, and with 0 epochs
    final.jpg is that image again (through the mean and the truncation of PostprocessImage)."""
    rng = np.random.RandomState(3)
    start = rng.randint(0, 256, size=(21, 32, 3)).astype(np.uint8)
    start[0, 0] = [0, 0, 0]
    start[0, 1] = [255, 255, 255]
    path = tmp_path / 'e_50.png'
    io.imsave(str(path), start, check_contrast=False)
    seen = images_before_steps(monkeypatch)
    nstyle.train_nstyle(args_for(tmp_path / 'out', vgg_params, '--init', str(path), '--max-num-epochs', '1'))
    # the optimiser's first image, written as the program writes images, is exactly the file
    np.testing.assert_array_equal(PostprocessImage(seen[0]), start)
    np.testing.assert_allclose(seen[0][0].transpose(1, 2, 0), start + 0.5 - images.MEAN_RGB, atol=1e-4)


def test_init_image_of_another_size_is_resized(tmp_path, vgg_params, monkeypatch):
    rng = np.random.RandomState(4)
    start = rng.randint(0, 256, size=(40, 50, 3)).astype(np.uint8)
    path = tmp_path / 'start.png'
    io.imsave(str(path), start, check_contrast=False)
    seen = images_before_steps(monkeypatch)
    nstyle.train_nstyle(args_for(tmp_path / 'out', vgg_params, '--init', str(path), '--max-num-epochs', '1'))
    expected = transform.resize(start.astype(np.float64), (21, 32), preserve_range=True)
    assert seen[0].shape == (1, 3, 21, 32)
    np.testing.assert_allclose(seen[0][0].transpose(1, 2, 0) + images.MEAN_RGB - 0.5, expected, atol=1e-3)


def test_init_missing_file_is_one_line_and_writes_nothing(tmp_path, vgg_params):
    out = tmp_path / 'out'
    proc = run_nstyle(SMALL + ['--vgg-params', vgg_params, '--output_dir', out, '--init', tmp_path / 'nope.jpg'])
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith('nstyle.py: error: --init %s: no such file'
                                                           % (tmp_path / 'nope.jpg'))
    assert not out.exists()


# ---------------------------------------------------------------- --multires

def test_multires_runs_each_stage_at_its_size_from_the_previous_result(tmp_path, vgg_params, monkeypatch):
    seen = images_before_steps(monkeypatch)
    calls = []
    args = args_for(tmp_path, vgg_params, '--multires', '32:2,64:3', '--save-epochs', '1', '--stop-eps', '0')
    nstyle.train_nstyle(args, callback=calls.append)
    assert [x.shape for x in seen] == [(1, 3, 21, 32)] * 2 + [(1, 3, 42, 64)] * 3
    # one numbering across the stages: the checkpoints do not overwrite each other
    assert [c['epoch'] for c in calls] == [1, 2, 3, 4, 5]
    assert sorted(os.listdir(tmp_path)) == ['e_1.jpg', 'e_2.jpg', 'e_3.jpg', 'e_4.jpg', 'e_5.jpg', 'final.jpg']
    assert io.imread(str(tmp_path / 'e_2.jpg')).shape == (21, 32, 3)
    assert io.imread(str(tmp_path / 'final.jpg')).shape == (42, 64, 3)
    # stage 2 starts from stage 1's last image, upsampled (bilinear, in the network's values)
    last_of_stage_1 = calls[1]['img'][0].transpose(1, 2, 0).astype(np.float64)
    expected = transform.resize(last_of_stage_1, (42, 64), preserve_range=True)
    np.testing.assert_allclose(seen[2][0].transpose(1, 2, 0), expected, atol=1e-3)


def test_multires_stage_without_a_budget_gets_max_num_epochs(tmp_path, vgg_params, monkeypatch):
    seen = images_before_steps(monkeypatch)
    args = args_for(tmp_path, vgg_params, '--multires', '16:1,32', '--max-num-epochs', '2', '--stop-eps', '0',
                    '--style-layers', 'relu1_1,relu2_1', '--content-layers', 'relu2_1')
    nstyle.train_nstyle(args)
    assert [x.shape[2:] for x in seen] == [(10, 16), (21, 32), (21, 32)]


def test_multires_stage_too_small_names_the_flag(tmp_path, vgg_params):
    out = tmp_path / 'out'
    proc = run_nstyle(SMALL + ['--vgg-params', vgg_params, '--output_dir', out, '--multires', '8,48'])
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        'nstyle.py: error: --content-image %s: resized to 8x5 (--multires 8), it is too small: the model needs at '
        'least 16 pixels on each side; raise --multires or use a less elongated image' % CONTENT)
    assert not out.exists()


@pytest.mark.parametrize('text,needle', [('300,200', 'must grow'), ('0,300', '> 0'), ('300:-1', '>= 0'),
                                         ('300:a', 'EDGE:EPOCHS'), ('', 'EDGE:EPOCHS')])
def test_bad_multires_is_one_line(text, needle, capsys):
    with pytest.raises(SystemExit) as exit_info:
        nstyle.get_args(['--multires', text])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'argument --multires' in err and needle in err


# ---------------------------------------------------------------- --jobs

def write_jobs(path, rows):
    path.write_text('content,style,output,options\n' + ''.join(','.join(row) + '\n' for row in rows))
    return path


def test_batch_runs_the_good_rows_and_reports_the_bad_ones(tmp_path, vgg_params, monkeypatch, caplog):
    jobs = write_jobs(tmp_path / 'jobs.csv', [
        (CONTENT, STYLE, str(tmp_path / 'a'), '--max-num-epochs 2'),
        (CONTENT, str(tmp_path / 'missing.jpg'), str(tmp_path / 'b'), ''),
        (CONTENT, STYLE, str(tmp_path / 'c'), '--style-weight x'),
        (CONTENT, STYLE, str(tmp_path / 'd'), '--max-num-epochs 3 --style-weight 2'),
    ])
    loads, binds = [], []
    real_load, real_bind = model_vgg19.load_params, model_vgg19.get_executor
    monkeypatch.setattr(model_vgg19, 'load_params', lambda *a: loads.append(a) or real_load(*a))
    monkeypatch.setattr(model_vgg19, 'get_executor', lambda *a, **k: binds.append(a) or real_bind(*a, **k))
    with caplog.at_level('INFO'):
        status = nstyle.main(SMALL + ['--vgg-params', vgg_params, '--jobs', str(jobs), '--save-epochs', '100'])
    assert status == 1
    # b: failed before its folder was made; the failed rows with their errors are in jobs.failed.csv
    assert sorted(os.listdir(tmp_path)) == ['a', 'd', 'jobs.csv', 'jobs.failed.csv']
    assert os.listdir(tmp_path / 'a') == ['final.jpg'] and os.listdir(tmp_path / 'd') == ['final.jpg']
    errors = [r.getMessage() for r in caplog.records if r.levelname == 'ERROR']
    assert errors == ['job 2 of 4 (%s line 3) failed: --style-image %s: no such file (relative paths start from %s)'
                      % (jobs, tmp_path / 'missing.jpg', os.getcwd()),
                      "job 3 of 4 (%s line 4) failed: argument --style-weight: expected float, got 'x'" % jobs]
    assert 'jobs: 2 of 4 done' in caplog.text and '2 failed: job 2 (line 3: --style-image' in caplog.text
    assert ', job 3 (line 4: argument --style-weight' in caplog.text
    with open(tmp_path / 'jobs.failed.csv', newline='') as f:
        failed = list(csv.DictReader(f))
    assert [(row['style'], row['output'], row['error']) for row in failed] == [
        (str(tmp_path / 'missing.jpg'), str(tmp_path / 'b'), errors[0].split(' failed: ', 1)[1]),
        (STYLE, str(tmp_path / 'c'), errors[1].split(' failed: ', 1)[1])]
    # the weights are read once; the target and loss executors are bound once for the size
    assert len(loads) == 1 and len(binds) == 2


def test_batch_results_equal_single_runs(tmp_path, vgg_params):
    """Reused executors give the same results as fresh ones: two batch jobs against two runs."""
    flags = ['--vgg-params', vgg_params, '--max-num-epochs', '3', '--save-epochs', '3', '--lr', '3']
    jobs = write_jobs(tmp_path / 'jobs.csv', [(CONTENT, STYLE, str(tmp_path / 'batch1'), ''),
                                              (CONTENT, STYLE, str(tmp_path / 'batch2'), '--seed 1 --content-weight 0.5')])
    proc = run_nstyle(SMALL + flags + ['--jobs', jobs])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'jobs: 2 of 2 done' in proc.stderr
    for name, extra in (('single1', []), ('single2', ['--seed', '1', '--content-weight', '0.5'])):
        single = run_nstyle(SMALL + flags + ['--output_dir', tmp_path / name] + extra)
        assert single.returncode == 0, single.stderr[-2000:]
    for batch, single in (('batch1', 'single1'), ('batch2', 'single2')):
        for image in ('e_3.jpg', 'final.jpg'):
            assert (tmp_path / batch / image).read_bytes() == (tmp_path / single / image).read_bytes()
    assert (tmp_path / 'batch1' / 'final.jpg').read_bytes() != (tmp_path / 'batch2' / 'final.jpg').read_bytes()


@pytest.mark.parametrize('content,needle', [
    (None, 'no such file'),
    ('content,style\na.jpg,b.jpg\n', 'the first line must name the columns content,style,output'),
    ('content,style,output\n', 'no jobs below the header line'),
    ('content,style,output,colour\na,b,c,d\n', 'the first line must name'),
])
def test_bad_jobs_file_is_one_line(tmp_path, vgg_params, content, needle, capsys):
    path = tmp_path / 'jobs.csv'
    if content is not None:
        path.write_text(content)
    status = nstyle.main(SMALL + ['--vgg-params', vgg_params, '--jobs', str(path)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip().splitlines()[-1] == err.strip() and ': error: --jobs %s' % path in err
    assert needle in err
    assert sorted(os.listdir(tmp_path)) == (['jobs.csv'] if content is not None else [])


def test_a_row_without_output_fails_alone(tmp_path, vgg_params, caplog):
    jobs = write_jobs(tmp_path / 'jobs.csv', [(CONTENT, STYLE, '', ''),
                                              (CONTENT, STYLE, str(tmp_path / 'ok'), '--max-num-epochs 1')])
    status = nstyle.main(SMALL + ['--vgg-params', vgg_params, '--jobs', str(jobs)])
    assert status == 1
    assert 'job 1 of 2 (%s line 2) failed: the output column is empty' % jobs in caplog.text
    assert os.listdir(tmp_path / 'ok') == ['final.jpg']


def test_multires_with_lbfgs_numbers_its_iterations_across_the_stages(tmp_path, vgg_params):
    calls = []
    args = args_for(tmp_path, vgg_params, '--multires', '32:15,64:10', '--optimizer', 'lbfgs', '--save-epochs', '1',
                    '--original-colors')
    nstyle.train_nstyle(args, callback=calls.append)
    epochs = [c['epoch'] for c in calls]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= 4
    shapes = [c['img'].shape[2:] for c in calls]
    first_stage = shapes.count((21, 32))
    assert first_stage >= 1 and shapes == [(21, 32)] * first_stage + [(42, 64)] * (len(shapes) - first_stage)
    assert io.imread(str(tmp_path / 'final.jpg')).shape == (42, 64, 3)
    assert io.imread(str(tmp_path / ('e_%d.jpg' % first_stage))).shape == (21, 32, 3)
