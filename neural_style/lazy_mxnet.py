"""`mx` for a module whose names a tool's --help needs (model_vgg19's layers and default weights
path): MXNet, set up by mxnet_runtime, loads at the first use of mx.<anything>, not at import."""


class LazyMXNet:
    def __getattr__(self, name):
        from neural_style.mxnet_runtime import mx
        return getattr(mx, name)


mx = LazyMXNet()
