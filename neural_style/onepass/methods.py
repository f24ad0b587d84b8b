"""The ways stylize.py can stylise a photo, by name: each is function(content, settings) -> image,
content (H, W, 3) float32 0-255, the result (H, W, 3) float32 0-255 at the same size. Another
method (wct, adain ...) is one more entry in METHODS. No MXNet at import: the functions load it."""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class MethodSettings:
    style: object = 0  # multistyle: an index, {index: weight} or 26 weights
    style_pixels: Tuple[np.ndarray, ...] = ()  # arbitrary: the paintings, (h, w, 3) 0-255 each
    style_weights: Optional[Tuple[float, ...]] = None  # arbitrary: one per painting (None: equal)
    strength: float = 1.0  # arbitrary: style vector vs the photo's own; multistyle: result vs photo
    weights_dir: Optional[str] = None  # the converted weights (None: model/styles, model/wct, model/adain)
    alpha: float = 1.0  # wct, adain: the transformed features' share, the content's the rest
    levels: int = 5  # wct: relu N_1 ... relu1_1, coarse to fine
    trained_style: Optional[dict] = None  # multistyle: a trained style's gammas and betas instead of style


def multistyle_method(content, settings):
    from neural_style.onepass import multistyle, weights
    params = weights.load('multistyle26', settings.weights_dir)
    if settings.trained_style is not None:  # onepass/finetune.py's
        result = multistyle.stylize_with_norm(content, settings.trained_style, params)
    else:
        result = multistyle.stylize_multistyle(content, settings.style, params)
    if settings.strength < 1:  # as the package does: a mix with the photo
        result = settings.strength * result + (1 - settings.strength) * np.asarray(content, np.float32)
    return result


def arbitrary_method(content, settings):
    from neural_style.onepass import arbitrary, weights
    return arbitrary.stylize_arbitrary(content, list(settings.style_pixels), settings.strength, settings.style_weights,
                                       weights.load('arbitrary_predict', settings.weights_dir),
                                       weights.load('arbitrary_transform', settings.weights_dir))


UNIVERSAL_METHODS = ('wct', 'adain')  # neural_style/universal/: the authors' models


def universal_method(name):
    """Universal style transfer (neural_style/universal/): WCT or AdaIN with the paintings."""
    def method(content, settings):
        from neural_style.universal import UniversalSettings, stylize_universal
        return stylize_universal(content, list(settings.style_pixels), settings.style_weights,
                                 UniversalSettings(name, settings.alpha, settings.levels, settings.weights_dir))
    return method


def check_universal_weights(name, settings):
    """The converted WCT or AdaIN models, before any work: one line naming ./download.sh when missing.
    Returns them, {level: (encoder params, decoder params)}."""
    from neural_style.errors import NstyleError
    from neural_style.universal.stylize import WeightsMissing, load_weights
    try:
        return load_weights(name, settings.levels, settings.weights_dir)
    except WeightsMissing as error:
        raise NstyleError(str(error)) from None


# the converted weights each pretrained network reads (onepass/weights.py)
WEIGHT_FILES = {'multistyle': ('multistyle26',), 'arbitrary': ('arbitrary_predict', 'arbitrary_transform')}


def check_weights(method, settings):
    """The method's weights, loaded once before any work: a missing or corrupt file is one line
    (naming ./download.sh --styles, --wct or --adain), not a failure after the first photo or frame.
    Returns them as remember_weights takes them (what a Ray worker is sent)."""
    if method in UNIVERSAL_METHODS:
        return check_universal_weights(method, settings)
    from neural_style.onepass import weights
    return {name: weights.load(name, settings.weights_dir) for name in WEIGHT_FILES[method]}


def remember_weights(method, settings, arrays):
    """ARRAYS, check_weights(method, settings)'s result elsewhere, stand from now on for the files
    settings.weights_dir names: the method runs without reading them (a Ray worker's disk lacks them)."""
    if method in UNIVERSAL_METHODS:
        from neural_style.universal.stylize import remember
        remember(method, settings.levels, settings.weights_dir, arrays)
        return
    from neural_style.onepass import weights
    for name, params in arrays.items():
        weights.remember(name, settings.weights_dir, params)


def chosen_style(pairs):
    """--style's (index, weight) pairs as the 26-style network takes them: an index, or {index: weight}."""
    return dict(pairs) if len(pairs) > 1 else pairs[0][0]


METHODS = {'multistyle': multistyle_method, 'arbitrary': arbitrary_method,
           'wct': universal_method('wct'), 'adain': universal_method('adain')}


PAINTING_METHODS = ('arbitrary', 'wct', 'adain')  # those that take paintings; multistyle takes its 26 styles


def arguments_problem(method, paintings, alpha, levels, style_weights, names):
    """The first rule a method's arguments break, in words, or None: one set of rules for stylize.py's
    flags and api.stylize's arguments. paintings: how many are given (0: one of the 26 styles);
    names: what the caller calls method, style (where paintings are given), paintings, alpha, levels
    and style_weights (stylize.py's flags, or the API's arguments)."""
    if method == 'multistyle' and paintings:
        return ('%(style)s: the multistyle network takes one of its 26 styles or a blend of them; for a painting '
                'choose %(method)s arbitrary, wct or adain' % names)
    if method in PAINTING_METHODS and not paintings:
        return '%s %s takes %s, not one of the 26 styles' % (names['method'], method, names['paintings'])
    if method not in UNIVERSAL_METHODS and (alpha != 1 or levels != 5):
        return '%(alpha)s and %(levels)s are for %(method)s wct or adain; leave them out' % names
    if method == 'adain' and levels != 5:
        return '%(levels)s is for %(method)s wct (AdaIN works at relu4_1); leave it out' % names
    if style_weights is not None and (len(style_weights) != paintings or min(style_weights) < 0
                                      or not sum(style_weights) > 0):
        return ('%s %s: one weight >= 0 per painting (%d), not all 0'
                % (names['style_weights'], ','.join('%g' % weight for weight in style_weights), paintings))
    return None


def stylize_photo(content, method, settings, original_colors=False, contact=False):
    """One photo as stylize.py writes it, (H, W, 3) uint8: METHODS[method] (with the photo's colours
    under original_colors), or with contact the sheet of the 26 styles. The same here and on a Ray
    worker (onepass/on_ray.py)."""
    if contact:
        return contact_sheet(content, settings.weights_dir)
    result = to_uint8(METHODS[method](content, settings))
    if original_colors:
        from neural_style.files.images import original_colors as with_colors_of
        result = with_colors_of(result, to_uint8(content))
    return result


def to_uint8(image):
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


MIN_SIDE = 16  # the networks' smallest side (WCT's relu5_1 halves four times)


def photo_at_long_edge(pixels, long_edge, name):
    """A photo as the networks take it: (H, W, 3) uint8 -> float32 0-255, the long edge at most
    long_edge (Lanczos; None: as it is); a side under MIN_SIDE pixels is one line naming `name`."""
    from neural_style.errors import NstyleError
    from neural_style.files.images import shrunk_to_long_edge
    pixels = shrunk_to_long_edge(pixels, long_edge)
    if min(pixels.shape[:2]) < MIN_SIDE:
        raise NstyleError('%s: %dx%d is too small; both sides need at least %d pixels'
                          % (name, pixels.shape[1], pixels.shape[0], MIN_SIDE))
    return pixels.astype(np.float32)


def contact_sheet(content, weights_dir=None, tile=256, columns=7):
    """The photo and its 26 styles, each labelled, on one sheet (uint8): to pick a style by eye."""
    from PIL import Image, ImageDraw
    from neural_style.onepass import multistyle
    small = Image.fromarray(to_uint8(content))
    small.thumbnail((tile, tile), Image.LANCZOS)
    pixels = np.asarray(small, np.float32)
    tiles = [('photo', small)]
    for index in range(multistyle.NUM_STYLES):
        styled = multistyle_method(pixels, MethodSettings(style=index, weights_dir=weights_dir))
        tiles.append(('style %d' % index, Image.fromarray(to_uint8(styled))))
    width, height = small.size
    pad, label = 6, 18
    rows = -(-len(tiles) // columns)
    sheet = Image.new('RGB', (columns * (width + pad) + pad, rows * (height + label + pad) + pad), 'white')
    draw = ImageDraw.Draw(sheet)
    for number, (name, image) in enumerate(tiles):
        row, column = divmod(number, columns)
        x, y = pad + column * (width + pad), pad + row * (height + label + pad)
        draw.text((x + 2, y + 3), name, fill='black')
        sheet.paste(image, (x, y + label))
    return np.asarray(sheet)
