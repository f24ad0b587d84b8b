"""Peer for side-by-side timing: the end_to_end generators in PyTorch, inference only.

The same layers as neural_style/generators.py: the original's chain gen_v4, gen_v3, gen_v3, gen_v4
(BatchNorm with running statistics, LeakyReLU slope 0.25 as MXNet's "leaky", the deconvolutions
cropped at offset 1, tanh * 128 + 128 minus the mean, blended 0.4/0.6 with the input), and Johnson
et al.'s network (reflection padding, instance normalisation, nearest upsampling). Weights are
random: the cost of a forward pass does not depend on their values.

    .venv-torch/bin/python benchmarks/torch_generators.py --height 480 --width 640 --repeats 5

Prints one line per generator: `torch <generator> <dtype> ms/image <median> cpu-ms <median> threads <n>`
(cpu-ms: the process's CPU time, all threads).
"""
import argparse
import os
import statistics
import time

import torch
from torch import nn

MEAN = torch.tensor([123.68, 116.779, 103.939]).view(1, 3, 1, 1)


def conv_bn_leaky(cin, cout, kernel, stride=1, bias=True):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=bias), nn.BatchNorm2d(cout),
                         nn.LeakyReLU(0.25))


def blended(tanh_out, data):
    return 0.4 * (tanh_out * 128 + 128 - MEAN) + 0.6 * data


class GenV4(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for cout, kernel, bias in ((48, 5, True), (32, 5, True), (64, 3, True), (32, 5, True), (48, 5, True),
                                   (32, 5, False)):
            layers.append(conv_bn_leaky(cin, cout, kernel, bias=bias))
            cin = cout
        self.body = nn.Sequential(*layers, nn.Conv2d(32, 3, 3, 1, 1, bias=False), nn.BatchNorm2d(3))

    def forward(self, x):
        return blended(torch.tanh(self.body(x)), x)


class Deconv(nn.Module):
    """7x7 stride-2 transposed convolution cropped at offset (1, 1) to the given size, BN, LeakyReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 7, 2, 2, bias=False)
        self.rest = nn.Sequential(nn.BatchNorm2d(cout), nn.LeakyReLU(0.25))

    def forward(self, x, size):
        return self.rest(self.deconv(x)[:, :, 1:1 + size[0], 1:1 + size[1]])


class GenV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv1_1 = conv_bn_leaky(3, 64, 5, 2), conv_bn_leaky(64, 48, 3)
        self.conv2, self.conv2_1 = conv_bn_leaky(48, 128, 5, 2), conv_bn_leaky(128, 96, 3)
        self.conv3, self.conv3_1 = conv_bn_leaky(96, 256, 5, 2), conv_bn_leaky(256, 192, 3)
        self.deconv1, self.conv4_1 = Deconv(192, 128), conv_bn_leaky(128, 160, 3)
        self.deconv2, self.conv5_1 = Deconv(160, 64), conv_bn_leaky(64, 96, 3)
        self.out = nn.Sequential(nn.ConvTranspose2d(96, 3, 8, 2, 3, bias=False), nn.BatchNorm2d(3))

    def forward(self, x):
        h, w = x.shape[2:]
        conv1 = self.conv1(x)
        conv2 = self.conv2(self.conv1_1(conv1))
        conv3_1 = self.conv3_1(self.conv3(self.conv2_1(conv2)))
        deconv1 = self.deconv1(conv3_1, (h // 4, w // 4)) + conv2
        deconv2 = self.deconv2(self.conv4_1(deconv1), (h // 2, w // 2)) + conv1
        return blended(torch.tanh(self.out(self.conv5_1(deconv2))), x)


def conv_in(cin, cout, kernel, stride=1, relu=True):
    layers = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride),
              nn.InstanceNorm2d(cout, affine=True)]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(conv_in(128, 128, 3), conv_in(128, 128, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


def johnson():
    return nn.Sequential(conv_in(3, 32, 9), conv_in(32, 64, 3, 2), conv_in(64, 128, 3, 2),
                         *[Residual() for _ in range(5)],
                         nn.Upsample(scale_factor=2, mode='nearest'), conv_in(128, 64, 3),
                         nn.Upsample(scale_factor=2, mode='nearest'), conv_in(64, 32, 3),
                         nn.ReflectionPad2d(4), nn.Conv2d(32, 3, 9))


class Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([GenV4(), GenV3(), GenV3(), GenV4()])

    def forward(self, x):
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs


def time_ms(net, shape, repeats, dtype):
    x = torch.rand(shape) * 255 - 120
    with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=dtype == 'bfloat16'):
        net(x)  # warm-up: oneDNN picks and caches its kernels
        walls, cpus = [], []
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            net(x)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--generators', default='v3chain,johnson')
    parser.add_argument('--dtypes', default='float32')
    args = parser.parse_args()
    threads = int(os.environ.get('OMP_NUM_THREADS', torch.get_num_threads()))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for name in args.generators.split(','):
        net = (Chain() if name == 'v3chain' else johnson()).eval()
        for dtype in args.dtypes.split(','):
            wall, cpu = time_ms(net, (1, 3, args.height, args.width), args.repeats, dtype)
            print('torch %s %s ms/image %.1f cpu-ms %.1f threads %d' % (name, dtype, wall, cpu, threads), flush=True)


if __name__ == '__main__':
    main()
