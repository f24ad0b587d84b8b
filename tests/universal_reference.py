"""The WCT of the authors' test_wct.lua in plain numpy: the reference of tests/test_universal.py and
of benchmarks/universal.py. No MXNet."""
import numpy as np


def reference_wct(content, style, epsilon=1e-5):
    """test_wct.lua's feature_wct in plain numpy float64, written out step by step."""
    c = content.reshape(content.shape[0], -1).astype(np.float64)
    s = style.reshape(style.shape[0], -1).astype(np.float64)
    c = c - c.mean(axis=1, keepdims=True)
    s_mean = s.mean(axis=1, keepdims=True)
    s = s - s_mean
    c_e, c_v = np.linalg.eigh(c @ c.T / (c.shape[1] - 1))
    s_e, s_v = np.linalg.eigh(s @ s.T / (s.shape[1] - 1))
    k = max(np.argmax(c_e > epsilon), np.argmax(s_e > epsilon))
    whitened = c_v[:, k:] @ np.diag(c_e[k:] ** -0.5) @ c_v[:, k:].T @ c
    return (s_v[:, k:] @ np.diag(s_e[k:] ** 0.5) @ s_v[:, k:].T @ whitened + s_mean).reshape(content.shape)
