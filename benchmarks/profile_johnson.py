"""Profile: time per operator type of one forward of Johnson's network, with MXNet's InstanceNorm
(before issue 25) or with the stylizer's BatchNorm stand-ins (after), from MXNet's profiler.

    python benchmarks/profile_johnson.py --side 512 --norm instance
    python benchmarks/profile_johnson.py --side 512 --norm batch

Executor bulking is turned off (otherwise the profiler reports fused segments, not operators).
Random weights. Prints a markdown table; asserts nothing.
"""
import argparse
import os
import sys
import time


HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project
sys.path[:0] = [HERE, os.path.dirname(os.path.abspath(__file__))]


def operator_times(text):
    """[(operator, calls, total ms)] from mx.profiler.dumps()'s aggregate table."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[1].isdigit():
            try:
                rows.append((parts[0], int(parts[1]), float(parts[2])))
            except ValueError:
                pass
    return [row for row in rows if not row[0].startswith('MX') and row[0] not in ('WaitForVar', 'Reorder')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--side', type=int, default=512)
    parser.add_argument('--norm', choices=['instance', 'batch'], default='batch')
    args = parser.parse_args()
    os.environ['MXNET_EXEC_BULK_EXEC_INFERENCE'] = os.environ['MXNET_EXEC_BULK_EXEC_TRAIN'] = '0'
    from neural_style import mxnet_runtime
    from neural_style.mxnet_runtime import mx
    import numpy as np
    from machine import cpu_model
    from neural_style.generators import networks as generators
    size = (args.side, args.side)
    one_image = args.norm == 'batch'
    symbol = generators.johnson(one_image=one_image)
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=(1, 3) + size)
    rng = np.random.RandomState(0)
    params = {name: mx.nd.array(rng.normal(0, 0.05, shape)) for name, shape in zip(symbol.list_arguments(), arg_shapes)}
    aux = {name: mx.nd.ones(shape) for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes)}
    # bound as the stylizer binds: with the input's gradient (see generators.instance_norm_of_one_image)
    executor = symbol.bind(mx.cpu(), args=params, args_grad={'data': mx.nd.zeros((1, 3) + size)}, aux_states=aux,
                           grad_req={name: 'write' if name == 'data' else 'null' for name in params})
    executor.forward(is_train=one_image)[0].wait_to_read()  # warm-up: oneDNN picks its kernels
    mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                           filename=os.path.join(os.environ.get('TMPDIR', '/tmp'), 'profile_johnson.json'))
    mx.profiler.set_state('run')
    start = time.perf_counter()
    executor.forward(is_train=one_image)[0].wait_to_read()
    wall = time.perf_counter() - start
    mx.profiler.set_state('stop')
    rows = operator_times(mx.profiler.dumps(reset=True))
    total = sum(ms for _, _, ms in rows)
    print("%s, %s threads; Johnson's network at %dx%d, %s normalisation: %.0f ms wall (profiled)"
          % (cpu_model(), mxnet_runtime.THREADS, args.side, args.side, args.norm, wall * 1000))
    print('| operator | calls | ms | share |')
    print('|---|---|---|---|')
    for name, calls, ms in sorted(rows, key=lambda row: -row[2]):
        print('| %s | %d | %.0f | %.1f %% |' % (name, calls, ms, 100 * ms / total))
    print('| total | | %.0f | |' % total)


if __name__ == '__main__':
    main()
