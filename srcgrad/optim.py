"""``srcgrad.optim``: PyTorch's SGD and Adam for the eager Tensor's parameters (``torch.optim``).

``step()`` changes each parameter in place, without recording it (as under ``no_grad``), from
its ``.grad``; parameters without a gradient are skipped. The updates are PyTorch's formulas.
"""
from .eager.grad_mode import no_grad
from .eager.tensor import Tensor


def clear_gradients(params, set_to_none=True):
    """``zero_grad`` of a module or an optimizer: each parameter's ``.grad`` set to None, or
    zeroed in place (and cut from any graph) with ``set_to_none=False``."""
    for param in params:
        if param.grad is None:
            continue
        if set_to_none:
            param.grad = None
        else:
            param.grad.detach_()
            param.grad.zero_()


class Optimizer:
    """Holds ``param_groups`` (a list of dicts with ``"params"`` and the options) and a per
    parameter ``state``."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        for group in groups:
            group = {**self.defaults, **group, "params": list(group["params"])}
            for param in group["params"]:
                if not isinstance(param, Tensor) or not param.is_leaf:
                    raise ValueError("can't optimize a non-leaf Tensor")
            self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        clear_gradients((p for g in self.param_groups for p in g["params"]), set_to_none)

    def _updates(self):
        """(group, parameter, its gradient as an array) for each parameter with a gradient,
        negated for ``maximize`` and with the weight decay added (both optimizers' first
        steps)."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.detach().array
                grad = -grad if group["maximize"] else grad
                if group["weight_decay"]:
                    grad = grad + group["weight_decay"] * param.detach().array
                yield group, param, grad

    @staticmethod
    def _apply(param, step):
        with no_grad():
            param.sub_(Tensor(step.astype(param.array.dtype, copy=False)))

    def state_dict(self):
        return {"state": self.state, "param_groups": [
            {k: v for k, v in g.items() if k != "params"} for g in self.param_groups]}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (Nesterov's too) and weight decay."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group, param, grad in self._updates():
            if group["momentum"]:
                state = self.state.setdefault(param, {})
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = grad.copy()
                else:
                    buffer = group["momentum"] * buffer + (1 - group["dampening"]) * grad
                state["momentum_buffer"] = buffer
                grad = grad + group["momentum"] * buffer if group["nesterov"] else buffer
            self._apply(param, group["lr"] * grad)
        return loss


class Adam(Optimizer):
    """Adam (Kingma and Ba), with bias correction, as ``torch.optim.Adam`` computes it."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group, param, grad in self._updates():
            beta1, beta2 = group["betas"]
            state = self.state.setdefault(param, {})
            if not state:
                state["step"] = 0
                state["exp_avg"] = 0.0 * grad
                state["exp_avg_sq"] = 0.0 * grad
            state["step"] += 1
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
            correction1 = 1 - beta1 ** state["step"]
            correction2 = 1 - beta2 ** state["step"]
            denominator = (state["exp_avg_sq"] / correction2) ** 0.5 + group["eps"]
            self._apply(param, group["lr"] / correction1 * state["exp_avg"] / denominator)
        return loss
