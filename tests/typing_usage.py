"""What a user's type checker sees: checked by mypy --strict in CI (not a test module)."""
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

import srcgrad as sg
from srcgrad.api import Derivative


def loss(w: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> float:
    return float(np.sum(np.tanh(x @ w)))


gradient: Derivative = sg.grad(loss)
pair: Derivative = sg.grad(loss, wrt=(0, 1))
value_and_gradient: Derivative = sg.value_and_grad(loss, wrt="w")
make_vjp: Callable[[Callable[..., Any]], Derivative] = sg.vjp(wrt=0)
text: str = sg.source(gradient)
version: str = sg.__version__


def softplus(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.log1p(np.exp(x))


@sg.defvjp(softplus)
def softplus_vjp(g: Any, ans: Any, x: Any) -> Any:
    return g / (1.0 + np.exp(-x))


@sg.grad
def decorated(x: npt.NDArray[np.float64]) -> float:
    return float(np.sum(x * x))


def halved(x: npt.NDArray[np.float64], n: int) -> float:
    for _ in sg.checkpoint_range(n, segments=None):
        x = x * 0.5
    steps: range = sg.checkpoint_range(0, n, 2)
    return float(np.sum(x)) + len(steps)


def use() -> None:
    dw = gradient(np.ones(3), np.ones((4, 3)))
    print(dw, decorated(np.ones(3)), softplus_vjp)


def second_order() -> None:
    x = np.ones(3)
    hessian: Callable[..., Any] = sg.hessian(decorated.function)
    product: Callable[..., Any] = sg.hvp(decorated.function)
    value, tangent = sg.jvp(softplus, (x,), (x,))
    sg.non_differentiable(np.round)
    sg.show(gradient, x, np.ones((4, 3)))
    print(hessian(x), product(x, x), value, tangent)
