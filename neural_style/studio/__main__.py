"""python -m neural_style.studio [--port 8765] [--host 127.0.0.1] [--vgg-params PATH] [--weights-dir DIR]:
the local web page. Prints its address, serves until Ctrl-C. --help and flag errors load neither
MXNet nor the web server."""
import os
import shutil
import socket
import sys
import tempfile

from neural_style.cli.flag_types import POSITIVE_INT, checked
from neural_style.errors import NstyleError
from neural_style.machine import usable_cpu_count
from neural_style.cli.tool import OneLineErrorParser, run_cli

PROG = 'python -m neural_style.studio'


def get_args(arglist=None):
    parser = OneLineErrorParser(prog=PROG, description='the neural-style studio: a local web page to make, watch '
                                                       'and compare stylised pictures')
    parser.add_argument('--port', type=checked(int, lambda v: 0 <= v < 65536, 'in 0 ... 65535'), default=8765,
                        help='the port (default 8765; 0: any free one, printed)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='the address to listen on (default 127.0.0.1: this machine only; the page has no '
                             'login, so think twice before 0.0.0.0)')
    parser.add_argument('--vgg-params', default=os.environ.get('NSTYLE_VGG_PARAMS'),
                        help='the VGG-19 weights (default: $NSTYLE_VGG_PARAMS, else model/vgg19.params); the '
                             'page\'s footer says which weights are in use')
    parser.add_argument('--model-dir', default='model/end_to_end',
                        help='the end_to_end generators\' folder (default model/end_to_end); the method is '
                             'offered when it holds generators')
    parser.add_argument('--weights-dir', default='model',
                        help='the one-pass networks\' converted weights: its styles/ (./download.sh --styles), wct/ '
                             '(--wct) and adain/ (--adain) (default model); each method is offered when its are there')
    cpus = usable_cpu_count()
    parser.add_argument('--max-running', type=POSITIVE_INT, default=max(1, cpus // 2),
                        help='optimisations at once; the rest wait in line, shown as queued (default: one per '
                             'two CPUs, here %d)' % max(1, cpus // 2))
    return parser.parse_args(arglist)


def listening_socket(host, port):
    """The server's socket, bound here so that a taken port is one line and --port 0 gets a real one."""
    try:
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        raise NstyleError('cannot listen on %s port %d: %s; choose another --port (or --host)'
                          % (host, port, error.strerror or error)) from None
    return sock


def serve(args):
    import uvicorn

    from .app import StudioConfig, create_app
    sock = listening_socket(args.host, args.port)
    work_dir = tempfile.mkdtemp(prefix='nstyle-studio-')
    try:
        threads = max(1, usable_cpu_count() // args.max_running)
        app = create_app(StudioConfig(args.vgg_params, args.model_dir, work_dir, args.max_running, threads,
                                      args.weights_dir))
        host, port = sock.getsockname()[:2]
        shown = '[%s]' % host if ':' in host else host
        print('neural-style studio: http://%s:%d/  (Ctrl-C to stop; results live in %s until then)'
              % (shown, port, work_dir), flush=True)
        config = uvicorn.Config(app, log_level='warning', timeout_graceful_shutdown=3)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


def main(arglist=None):
    return run_cli(lambda: serve(get_args(arglist)), PROG)


if __name__ == '__main__':
    sys.exit(main())
