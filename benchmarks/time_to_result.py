"""Benchmark: time to a finished image. The original's default run (NAG, lr 0.001, up to 1000
epochs, stop at a relative change of 0.005) against candidate recipes, each run until it first
reaches the objective the default run ended with.

    python benchmarks/time_to_result.py                          # every recipe at 300x200 and 600x400 (hours)
    python benchmarks/time_to_result.py --sizes 300x200 \
        --recipes "lbfgs@float32,--preset fast@float32,lbfgs@bfloat16,--preset fast@bfloat16"   # ~10 minutes
    python benchmarks/time_to_result.py --sizes 150x100 --default-epochs 30   # a quick look

The objective is the float32 loss of the image at the full size, weighted as the gradient weighs
it: content + style + TV energy (neural_style.gatys.optimise's StyleLoss.named_losses). It is evaluated every
--eval-every epochs (and at each run's end) by a separate evaluator process, and the time that
takes is left out of the run's clock: the clock runs from the worker's process start (so start-up
counts) to the end of the first epoch whose image reaches the objective (a conservative time: the
objective may have been reached up to --eval-every epochs earlier). Every run is its own fresh
process, seeded (--seed 0), on the sample images, with RANDOM weights (tests/weights.py: an epoch
costs what it costs with VGG-19, but the objectives are not VGG-19's). Epochs are forward and
backward passes (an L-BFGS iteration can take several), counted per stage size. Peak memory is the
worker's peak resident set (the evaluator's is not in it).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from machine import cpu_model, has_bf16  # noqa: E402  (benchmarks/, this script's folder)

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
sys.path.insert(0, HERE)

# name: flags given the full size's long edge E (the default run is the original's, all defaults).
# {half} is E // 2, the coarse stage of the coarse-to-fine recipes.
RECIPES = [
    ('default (nag)', ''),
    ('lbfgs', '--optimizer lbfgs'),
    ('multires + lbfgs', '--optimizer lbfgs --multires {half}:100,{full}'),
    ('multires + nag', '--multires {half}:{budget},{full}'),
    ('lbfgs from the content', '--optimizer lbfgs --init content'),
    ('lbfgs from the content + history 50', '--optimizer lbfgs --init content --lbfgs-num-correction 50'),
    ('--preset fast', '--preset fast'),
]
# Adam (--optimizer adam, alone or after a coarse stage) was a candidate too: at 300x200 it stopped on
# --stop-eps with an objective 37 % above the default run's, so it is no longer in the table.

# recipes run to their own end (a finished image), not stopped when they reach the objective: the row
# gives when they first reached it, and the end's time and objective
RUN_TO_END = {'--preset fast'}


class Reached(Exception):
    """Raised from the epoch hook: the recipe's image reached the target objective."""


def parse_size(text):
    w, h = text.lower().split('x')
    return int(w), int(h)


def recipe_flags(template, size, default_epochs):
    edge = max(size)
    return template.format(half=edge // 2, full=edge, budget=default_epochs).split()


def run_flags(size, params, output_dir, recipe, dtype, default_epochs):
    budget = [] if '--preset' in recipe else ['--max-num-epochs', str(default_epochs)]  # a preset has its own
    return (['--gpu', '-1', '--max-long-edge', str(max(size)), '--seed', '0', '--vgg-params', params,
             '--output_dir', output_dir, '--dtype', dtype] + budget + recipe_flags(recipe, size, default_epochs))


# ---------------------------------------------------------------- the evaluator (its own process)

def evaluator_main(size, params):
    """Reads .npy paths on stdin, one a line; answers each with its image's float32 objective."""
    import numpy as np
    import mxnet as mx
    import model_vgg19
    import nstyle
    from neural_style.files import images
    from neural_style.gatys import loss as loss_setup
    from neural_style.gatys.run import read_pictures
    with tempfile.TemporaryDirectory() as folder:
        args = nstyle.get_args(run_flags(size, params, folder, '', 'float32', 1))
        net = loss_setup.load_vgg(args, model_vgg19, mx.cpu())
        loss = loss_setup.build_loss(args, net, loss_setup.stage_inputs(args, model_vgg19, args.max_long_edge, '--max-long-edge', read_pictures(args)))
    shape = loss.executor.data.shape
    print('ready', flush=True)
    for line in sys.stdin:
        image = np.load(line.strip())
        if image.shape != shape:  # a coarse stage's image: upsampled as the next stage would
            image = images.resized_network_image(image, shape[2:])
        loss.executor.data[:] = image
        loss.executor.executor.forward()
        loss.terms_gradient()  # the TV executor's forward, which its energy reads
        print(repr(sum(value for _, value in loss.named_losses())), flush=True)


class Evaluator:
    def __init__(self, size, params, folder):
        self.path = os.path.join(folder, 'image.npy')
        self.process = subprocess.Popen([sys.executable, __file__, '--evaluator', '%dx%d' % size, '--params', params],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        while self.process.stdout.readline().strip() != 'ready':  # build_loss prints the head gradients
            if self.process.poll() is not None:
                raise RuntimeError('the evaluator failed')

    def objective(self, image):
        import numpy as np
        np.save(self.path, image)
        self.process.stdin.write(self.path + '\n')
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


# ---------------------------------------------------------------- one recipe (its own process)

def worker_main(size, options):
    """One run of a recipe; prints a JSON line: seconds (evaluations left out), epochs, the trace
    [(seconds, epochs, objective)], whether and when it reached options.target, peak memory."""
    process_start = options.process_start
    with tempfile.TemporaryDirectory() as folder:
        began = time.time()
        evaluator = Evaluator(size, options.params, folder)
        excluded = time.time() - began  # the evaluator's start-up is not the run's
        import nstyle
        from neural_style.gatys import optimise, run
        passes = {}  # forward-backward passes per image size
        state = {'trace': [], 'excluded': excluded, 'reached': None, 'img': None, 'evaluations': 0}

        def clock():
            return time.time() - process_start - state['excluded']

        def evaluate(img):
            seconds, epochs = clock(), dict(passes)
            began = time.time()
            value = evaluator.objective(img.asnumpy())
            state['excluded'] += time.time() - began
            state['trace'].append((seconds, epochs, value))
            return value

        counted = optimise.StyleLoss.forward_backward

        def counting_forward_backward(loss):
            counted(loss)
            key = 'x'.join(map(str, loss.executor.data.shape[:1:-1]))
            passes[key] = passes.get(key, 0) + 1
        optimise.StyleLoss.forward_backward = counting_forward_backward

        epoch_done = run.EpochWatch.epoch_done

        def hooked_epoch_done(self, epoch, eps, img, losses):
            epoch_done(self, epoch, eps, img, losses)
            state['img'] = img
            state['evaluations'] += 1
            if state['evaluations'] % options.eval_every == 0:
                value = evaluate(img)
                if options.target is not None and value <= options.target:
                    state['reached'] = state['reached'] or state['trace'][-1]
                    if not options.run_to_end:
                        raise Reached()
        run.EpochWatch.epoch_done = hooked_epoch_done

        args = nstyle.get_args(run_flags(size, options.params, os.path.join(folder, 'out'), options.recipe,
                                         options.dtype, options.default_epochs))
        end = None
        try:
            nstyle.train_nstyle(args)
            end = clock()
            final = evaluate(state['img'])  # the image after the last step (NAG's last step is not hooked)
            if options.target is not None and final <= options.target:
                state['reached'] = state['reached'] or state['trace'][-1]
        except Reached:
            pass
        evaluator.close()
    first = state['reached'] or state['trace'][-1]  # (seconds, passes, objective) when first reached, or the end
    return {'seconds': first[0], 'passes': first[1], 'reached': bool(state['reached']),
            'end_seconds': end, 'end_passes': dict(passes), 'objective': state['trace'][-1][2],
            'trace': state['trace'], 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_recipe(size, params, what, options, target=None, run_to_end=False):
    """One recipe's run in a fresh process; what: (the recipe's flags, the dtype)."""
    recipe, dtype = what
    command = [sys.executable, __file__, '--worker', '%dx%d' % size, '--params', params, '--recipe', recipe,
               '--dtype', dtype, '--eval-every', str(options.eval_every if target is not None else
                                                      options.default_eval_every),
               '--default-epochs', str(options.default_epochs)]
    if target is not None:
        command += ['--target', repr(target)]
    if run_to_end:
        command += ['--run-to-end']
    command += ['--process-start', repr(time.time())]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {'error': (result.stderr.strip().splitlines() or ['exit %d' % result.returncode])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the table





def passes_text(passes):
    """{'300x200': 40, '150x100': 100} -> '100@150x100 + 40@300x200'"""
    return ' + '.join('%d@%s' % (n, s) for s, n in sorted(passes.items(), key=lambda kv: int(kv[0].split('x')[0])))


def row_text(size, name, dtype, run, default):
    if 'error' in run:
        return '| %s | %s | %s | failed: %s | | | |' % (size, name, dtype, run['error'])
    passes = passes_text(run['passes'])
    seconds = '%.1f' % run['seconds'] if run['reached'] else 'not reached (%.1f s, objective %.4g)' % (
        run['seconds'], run['objective'])
    ratio = '%.2f' % (default['seconds'] / run['seconds']) if run['reached'] else '-'
    if name in RUN_TO_END and run.get('end_seconds') is not None:
        seconds += ' (its end: %.1f s, %s, objective %.4g = %.3g x the default\'s)' % (
            run['end_seconds'], passes_text(run['end_passes']), run['objective'], run['objective'] / default['objective'])
    if run.get('reused'):
        seconds += ' (an earlier run of this script)'
    return '| %s | %s | %s | %s | %s | %s | %.0f |' % (size, name, dtype, seconds, ratio, passes, run['peak_rss_mb'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='300x200,600x400', help='WxH,WxH,...')
    parser.add_argument('--recipes', default=None,
                        help='comma-separated recipe names to run, in this order, each as NAME (every dtype) or '
                             'NAME@DTYPE (default: all)')
    parser.add_argument('--default', default=None,
                        help="SECONDS:PASSES:OBJECTIVE:PEAK_MB of the default run, taken from an earlier run of "
                             "this script (one size), instead of running it again")
    parser.add_argument('--default-epochs', type=int, default=1000,
                        help="the default run's --max-num-epochs (the original's 1000); also the recipes' budget")
    parser.add_argument('--eval-every', type=int, default=5, help="a recipe's epochs between objective evaluations")
    parser.add_argument('--default-eval-every', type=int, default=10,
                        help="the default run's epochs between objective evaluations (its trace)")
    parser.add_argument('--no-bf16', action='store_true', help='skip the bfloat16 rows')
    parser.add_argument('--json', default=os.path.join(HERE, 'output', 'time_to_result.json'))
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--evaluator', help=argparse.SUPPRESS)
    parser.add_argument('--params', help=argparse.SUPPRESS)
    parser.add_argument('--recipe', default='', help=argparse.SUPPRESS)
    parser.add_argument('--dtype', default='float32', help=argparse.SUPPRESS)
    parser.add_argument('--target', type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument('--run-to-end', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--process-start', type=float, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.evaluator:
        return evaluator_main(parse_size(options.evaluator), options.params)
    if options.worker:
        print(json.dumps(worker_main(parse_size(options.worker), options)))
        return

    from tests.weights import random_vgg19_arrays, save_params
    folder = tempfile.TemporaryDirectory()
    params = os.path.join(folder.name, 'vgg19.params')
    save_params(params, random_vgg19_arrays())
    dtypes = ['float32'] + ([] if options.no_bf16 or not has_bf16() else ['bfloat16'])
    templates = dict(RECIPES)
    # (name, dtype) in the order given, else every recipe in each dtype; name@dtype picks one dtype
    runs = [tuple(item.split('@')) if '@' in item else (item, dtype) for item in options.recipes.split(',')
            for dtype in (['x'] if '@' in item else dtypes)] if options.recipes else \
        [(name, dtype) for name, _ in RECIPES for dtype in dtypes]
    runs = [(name, dtype) for name, dtype in runs if (name, dtype) != (RECIPES[0][0], 'float32')]
    print('machine: %s, %d CPUs usable; RANDOM weights (tests/weights.py, not VGG-19); seed 0; sample images'
          % (cpu_model(), len(os.sched_getaffinity(0))), flush=True)
    print('| size | recipe | dtype | seconds to the default\'s objective | speed-up | epochs (passes@size) '
          '| peak MB |\n| --- | --- | --- | --- | --- | --- | --- |', flush=True)
    report = {'machine': cpu_model(), 'weights': 'random (tests/weights.py)', 'rows': []}
    for size in map(parse_size, options.sizes.split(',')):
        label = '%dx%d' % size
        if options.default:  # the default run of an earlier run of this script: SECONDS:PASSES:OBJECTIVE:PEAK
            seconds, passes, objective, peak = options.default.split(':')
            default = {'seconds': float(seconds), 'passes': {label: int(passes)}, 'objective': float(objective),
                       'peak_rss_mb': float(peak), 'reused': True}
        else:
            default = run_recipe(size, params, ('', 'float32'), options)
        report['rows'].append({'size': label, 'recipe': RECIPES[0][0], 'dtype': 'float32', 'run': default})
        if 'error' in default:
            print(row_text(label, RECIPES[0][0], 'float32', default, default), flush=True)
            continue
        default['reached'] = True
        print(row_text(label, RECIPES[0][0], 'float32', default, default), flush=True)
        for name, dtype in runs:
            run = run_recipe(size, params, (templates[name], dtype), options, target=default['objective'],
                             run_to_end=name in RUN_TO_END)
            report['rows'].append({'size': label, 'recipe': name, 'dtype': dtype, 'run': run})
            print(row_text(label, name, dtype, run, default), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(options.json)), exist_ok=True)
    with open(options.json, 'w') as out:
        json.dump(report, out, indent=1)
    print('the default run ends with objective(s) %s; wrote %s' % (
        ', '.join('%s %.6g' % (r['size'], r['run']['objective']) for r in report['rows']
                  if (r['recipe'], r['dtype']) == (RECIPES[0][0], 'float32') and 'objective' in r['run']), options.json))


if __name__ == '__main__':
    main()
