"""A minimal writer of Torch7's binary serialisation (torch.save's format: little-endian, 4-byte ints,
8-byte longs), for the tests of the converter: the real models cannot be downloaded here, so the tests
write small models of the same layout (nn.Sequential of SpatialConvolution, SpatialReflectionPadding,
ReLU, SpatialMaxPooling, SpatialUpSamplingNearest) and check what the converter reads back.
Format: torch7's File.lua writeObject and generic/Tensor.c / Storage.c write."""
import struct

import numpy as np

TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, TYPE_BOOLEAN = 0, 1, 2, 3, 4, 5
TENSOR_CLASSES = {np.dtype(np.float32): (b'torch.FloatTensor', b'torch.FloatStorage'),
                  np.dtype(np.float64): (b'torch.DoubleTensor', b'torch.DoubleStorage')}


class TorchObject:
    """A Torch class instance: its class name and its fields (a Lua table)."""

    def __init__(self, class_name, fields):
        self.class_name, self.fields = class_name, fields


class Writer:
    def __init__(self, f):
        self.f, self.next_index = f, 1

    def int(self, value):
        self.f.write(struct.pack('<i', value))

    def long(self, value):
        self.f.write(struct.pack('<q', value))

    def string(self, value):
        data = value if isinstance(value, bytes) else value.encode()
        self.int(len(data))
        self.f.write(data)

    def index(self):
        self.int(self.next_index)
        self.next_index += 1

    def object(self, value):
        if value is None:
            self.int(TYPE_NIL)
        elif isinstance(value, bool):
            self.int(TYPE_BOOLEAN)
            self.int(1 if value else 0)
        elif isinstance(value, (int, float)):
            self.int(TYPE_NUMBER)
            self.f.write(struct.pack('<d', float(value)))
        elif isinstance(value, (str, bytes)):
            self.int(TYPE_STRING)
            self.string(value)
        elif isinstance(value, np.ndarray):
            self.tensor(value)
        elif isinstance(value, TorchObject):
            self.int(TYPE_TORCH)
            self.index()
            self.string(b'V 1')
            self.string(value.class_name)
            self.object(value.fields)
        elif isinstance(value, (list, dict)):
            items = list(enumerate(value, 1)) if isinstance(value, list) else list(value.items())
            self.int(TYPE_TABLE)
            self.index()
            self.int(len(items))
            for key, item in items:
                self.object(key)
                self.object(item)
        else:
            raise TypeError('cannot write %r' % type(value))

    def tensor(self, array):
        tensor_class, storage_class = TENSOR_CLASSES[array.dtype]
        array = np.ascontiguousarray(array)
        self.int(TYPE_TORCH)
        self.index()
        self.string(b'V 1')
        self.string(tensor_class)
        self.int(array.ndim)
        for size in array.shape:
            self.long(size)
        for stride in (s // array.itemsize for s in array.strides):
            self.long(stride)
        self.long(1)  # storage offset, counted from 1
        self.int(TYPE_TORCH)
        self.index()
        self.string(b'V 1')
        self.string(storage_class)
        self.long(array.size)
        self.f.write(array.astype(array.dtype.newbyteorder('<')).tobytes())


def save(path, value):
    with open(path, 'wb') as f:
        Writer(f).object(value)


def conv(weight, bias, kernel):
    out_planes, in_planes = weight.shape[:2]
    return TorchObject(b'nn.SpatialConvolution', {
        'weight': weight, 'bias': bias, 'nInputPlane': in_planes, 'nOutputPlane': out_planes,
        'kW': kernel, 'kH': kernel, 'dW': 1, 'dH': 1, 'padW': 0, 'padH': 0, 'train': False})


def reflection_pad():
    return TorchObject(b'nn.SpatialReflectionPadding', {'pad_l': 1, 'pad_r': 1, 'pad_t': 1, 'pad_b': 1})


def relu():
    return TorchObject(b'nn.ReLU', {'threshold': 0, 'val': 0, 'inplace': False})


def max_pool():
    return TorchObject(b'nn.SpatialMaxPooling', {'kW': 2, 'kH': 2, 'dW': 2, 'dH': 2, 'padW': 0, 'padH': 0,
                                                 'ceil_mode': True})


def upsample():
    return TorchObject(b'nn.SpatialUpSamplingNearest', {'scale_factor': 2})


def sequential(modules):
    return TorchObject(b'nn.Sequential', {'modules': modules, 'train': False})
