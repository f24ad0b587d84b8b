"""Generator checkpoints in a model folder, in the original's layout: the chain's four generators
as <dir>/<k>/v3_<epoch:04d>-<image:07d>.params (k = 0..3, Module.save_params: 'arg:'/'aux:' keys),
Johnson's network as <dir>/johnson_<epoch:04d>-<image:07d>.params. generator.json beside them says
which kind the folder holds; the published model has none, so its files' layout says it."""
import json
import os
import re

from neural_style.errors import NstyleError
from neural_style.files.output_folder import write_atomically

V3CHAIN = 'v3chain'  # the original's chain of four generators (networks.CHAIN)
JOHNSON = 'johnson'  # Johnson's network (networks.johnson)
CHAIN_LENGTH = 4
KINDS = (V3CHAIN, JOHNSON)
KIND_FILE = 'generator.json'
ORIGINAL_CHECKPOINT = 'v3_0002-0026000'  # the published model's, the original's boost_inference loaded it
PREFIX = {V3CHAIN: 'v3', JOHNSON: 'johnson'}
NAME = re.compile(r'(v3|johnson)_(\d{4,})-(\d{7,})$')


def checkpoint_name(kind, epoch, image):
    return '%s_%04d-%07d' % (PREFIX[kind], epoch, image)


def parse_checkpoint_name(name):
    """'v3_0002-0026000' -> (2, 26000); a name of another form is an NstyleError."""
    match = NAME.match(name)
    if not match:
        raise NstyleError('--checkpoint %s: expected a name such as %s or johnson_0000-0001000 (without .params)'
                          % (name, ORIGINAL_CHECKPOINT))
    return int(match.group(2)), int(match.group(3))


def checkpoint_paths(model_dir, kind, name):
    """The files of checkpoint `name`: four for the chain (one per generator), one for Johnson's."""
    if kind == V3CHAIN:
        return [os.path.join(model_dir, str(k), name + '.params') for k in range(CHAIN_LENGTH)]
    return [os.path.join(model_dir, name + '.params')]


def _names_in(folder, prefix):
    try:
        files = os.listdir(folder)
    except OSError:
        return set()
    return {f[:-len('.params')] for f in files if f.startswith(prefix + '_') and f.endswith('.params')
            and NAME.match(f[:-len('.params')])}


def list_checkpoints(model_dir, kind):
    """The checkpoint names complete in model_dir (for the chain: present for all four generators),
    oldest first."""
    if kind == V3CHAIN:
        sets = [_names_in(os.path.join(model_dir, str(k)), 'v3') for k in range(CHAIN_LENGTH)]
        names = set.intersection(*sets)
    else:
        names = _names_in(model_dir, 'johnson')
    return sorted(names, key=parse_checkpoint_name)


def find_kind(model_dir, flag='--model-dir'):
    """Which generator model_dir holds: its generator.json, else the layout of its files."""
    if os.path.exists(model_dir):
        from neural_style.files.images import check_input_folder
        check_input_folder(model_dir, flag, 'give the folder that holds the generators\' checkpoints')
    else:
        raise NstyleError('%s %s: no such folder; run ./download.sh --end-to-end for the published generators '
                          '(model/end_to_end), or end_to_end/boost_train.py to train some' % (flag, model_dir))
    kind_file = os.path.join(model_dir, KIND_FILE)
    if os.path.isfile(kind_file):
        try:
            with open(kind_file) as f:
                kind = json.load(f)['generator']
        except (OSError, ValueError, KeyError, TypeError):
            kind = None
        if kind not in KINDS:
            raise NstyleError('%s: not a generator description (expected {"generator": "%s"} or "%s"); remove it '
                              'or write it again' % (kind_file, V3CHAIN, JOHNSON))
        return kind
    found = [kind for kind in KINDS if list_checkpoints(model_dir, kind)]
    if not found:
        raise NstyleError('%s %s holds no generator checkpoints (<k>/v3_EEEE-IIIIIII.params for k = 0..3, or '
                          'johnson_EEEE-IIIIIII.params); run ./download.sh, or train with end_to_end/boost_train.py'
                          % (flag, model_dir))
    return found[0]


def write_kind(model_dir, kind):
    write_atomically(os.path.join(model_dir, KIND_FILE),
                     lambda temporary: _write_json(temporary, {'generator': kind}))


def _write_json(path, value):
    with open(path, 'w') as f:
        json.dump(value, f)
        f.write('\n')


def pick_checkpoint(model_dir, kind, checkpoint=None, flag='--checkpoint'):
    """The checkpoint to load: the one named, else the original's (the published model's) when the
    folder has it, else the newest."""
    names = list_checkpoints(model_dir, kind)
    if checkpoint is not None:
        parse_checkpoint_name(checkpoint)
        if checkpoint not in names:
            raise NstyleError('%s %s: not in %s (it has %s)' % (flag, checkpoint, model_dir,
                                                                ', '.join(names[-3:]) or 'no complete checkpoint'))
        return checkpoint
    if not names:
        raise NstyleError('--model-dir %s holds no complete %s checkpoint; run ./download.sh, or train with '
                          'end_to_end/boost_train.py' % (model_dir, kind))
    return ORIGINAL_CHECKPOINT if ORIGINAL_CHECKPOINT in names else names[-1]


def expected_shapes(symbol, data_shapes):
    """{'arg:name': shape, 'aux:name': shape} of a symbol's parameters (its inputs left out)."""
    arg_shapes, _, aux_shapes = symbol.infer_shape(**data_shapes)
    shapes = {'arg:' + name: shape for name, shape in zip(symbol.list_arguments(), arg_shapes)
              if name not in data_shapes}
    shapes.update(('aux:' + name, shape) for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes))
    return shapes


def load_checked(path, shapes, what):
    """(arg_params, aux_params) of a params file that holds exactly the arrays `shapes` names, with
    those shapes; anything else is an NstyleError that says which file and what is wrong."""
    from neural_style.mxnet_runtime import mx  # here: --help and flag checks read names only
    try:
        saved = mx.nd.load(path)
    except mx.base.MXNetError:
        raise NstyleError('%s is not an MXNet params file; run ./download.sh, or train again' % path) from None
    if not isinstance(saved, dict):
        raise NstyleError('%s holds unnamed arrays, not the weights of %s' % (path, what))
    missing = sorted(set(shapes) - set(saved))
    extra = sorted(set(saved) - set(shapes))
    wrong = ['%s is %s, expected %s' % (key, saved[key].shape, shapes[key]) for key in sorted(shapes)
             if key in saved and saved[key].shape != tuple(shapes[key])]
    if missing or extra or wrong:
        details = wrong[:2] + (['missing %s' % ', '.join(missing[:2])] if missing else []) + \
            (['unexpected %s' % ', '.join(extra[:2])] if extra else [])
        raise NstyleError('%s does not hold the weights of %s (%s%s); give a checkpoint of that generator'
                          % (path, what, '; '.join(details), ' ...' if len(missing) + len(extra) + len(wrong) > 2
                                                                   else ''))
    arg_params = {key[4:]: value for key, value in saved.items() if key.startswith('arg:')}
    aux_params = {key[4:]: value for key, value in saved.items() if key.startswith('aux:')}
    return arg_params, aux_params


def save_module(module, path):
    """Module.save_params, to a temporary name first: never a half-written checkpoint."""
    from neural_style.mxnet_runtime import mx
    try:
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        write_atomically(path, module.save_params)
    except (OSError, mx.base.MXNetError) as error:  # MXNet's own write fails as an MXNetError
        raise NstyleError(checkpoint_write_error(path, error)) from None
    except NstyleError as error:
        raise NstyleError(checkpoint_write_error(path, error)) from None


def checkpoint_write_error(path, error):
    """A checkpoint that could not be written: a full disk says so; the earlier checkpoints are intact."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        stats = os.statvfs(folder)
        full = stats.f_bavail * stats.f_frsize < 2 * 2**20
    except OSError:
        full = False
    if full or 'No space left' in str(error):
        reason = 'no space left on the device of %s' % folder
    else:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return ('cannot write the checkpoint %s: %s; the earlier checkpoints are intact: free some space, then resume '
            'with --init-model (the same folder)' % (path, reason))
