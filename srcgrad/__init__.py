"""srcgrad: derivatives of NumPy code by source-to-source transformation."""
__version__ = "0.1.0"  # the one place the version is written; pyproject.toml reads it

from . import rules  # noqa: F401  (fills the rule table)
from . import autograd  # noqa: F401  (srcgrad.autograd.grad, srcgrad.autograd.Function)
from . import nn  # noqa: F401  (srcgrad.nn: layers, losses, functional)
from . import optim  # noqa: F401  (srcgrad.optim.SGD, Adam)
from .checkpoint import checkpoint, checkpoint_range
from .api import (Derivative, defjvp, defvjp, grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp,
                  non_differentiable, show, source, stop_gradient, value_and_grad, vjp)
from .eager import (Function, Size, Tensor, enable_grad, inference_mode, is_grad_enabled,
                    is_inference_mode_enabled, no_grad, set_grad_enabled, tensor, to_dot)
from .eager.device import device
from .eager.dtypes import (bool_ as bool, cdouble, cfloat, complex64, complex128, double, dtype,
                           float16, float32, float64, get_default_dtype, half, int8, int16,
                           int32, int64, long, set_default_dtype, short, uint8)
from .eager.dtypes import float32 as float  # noqa: A001  (PyTorch's names shadow builtins here)
from .eager.dtypes import int32 as int  # noqa: A001
from .eager.factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                              full_like, linspace, logspace, manual_seed, ones, ones_like, rand,
                              rand_like, randint, randn, randn_like, randperm, seed, zeros,
                              zeros_like)
from .eager.functions import (  # type: ignore[attr-defined]  # made in a loop
    abs, add, all, allclose, amax, amin, any, argmax, argmin, atan, bmm, cat, ceil, chunk,
    clamp, clip, clone, concat, concatenate, cos, cosh, detach, div, dot, einsum, equal,
    exp, expm1, flatten, flip, floor, ger, inner, is_floating_point, is_tensor, isclose,
    lerp, log, log1p, log_softmax, logsumexp, masked_fill, matmul, max, maximum, mean, min,
    minimum, mm, mul, mv, narrow, neg, negative, norm, numel, outer, permute, pow, prod,
    reciprocal, relu, reshape, round, rsqrt, sigmoid, sign, sin, sinh, softmax, split, sqrt,
    square, squeeze, stack, std, sub, sum, t, tan, tanh, transpose, true_divide, trunc,
    unbind, unflatten, unsqueeze, var, where)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .errors import (NoDerivativeRule, NonScalarOutput, SourceError, SrcgradError,
                     UnsupportedSyntax)

# The PyTorch-style namespace above (exp, sum, max, float32 ...) is left out of __all__: a star
# import would shadow Python's own sum, max, abs, float, int and bool.
__all__ = ["__version__", "Derivative", "Function", "GradcheckError", "NoDerivativeRule",
           "NonScalarOutput", "SourceError", "SrcgradError", "Tensor", "UnsupportedSyntax",
           "autograd", "checkpoint", "checkpoint_range", "defjvp", "defvjp", "enable_grad", "gradcheck", "gradgradcheck", "grad",
           "hessian", "hvp", "is_grad_enabled", "jacfwd", "jacobian", "jacrev", "jvp", "non_differentiable", "no_grad",
           "set_grad_enabled", "show", "source", "stop_gradient", "tensor", "to_dot", "value_and_grad", "vjp"]
