"""The lesson as a short program to run: NumPy by hand in matrices, or PyTorch and JAX with autograd.

Each program is text built from the templates below; every number in it is ``repr(float)`` of the
lesson's or the engine's value, so it holds them at full precision.  It asserts its gradients and
updated weights (and its error) against the tutor's values and prints them beside the lesson's names.
The tool never runs the text; ``verify --with`` and the tests run it in a separate Python.

In the programs W[l] is layer l+1's weight matrix: row r is the receiving neuron, column s the sending
one; b[l] is a column of the layer's biases, or a single 1×1 bias that the layer shares (the post's b1).
Each column of x and y is one sample.
"""

from __future__ import annotations

from backprop_tutor.network import Network, run

TARGETS = ("numpy", "jax", "pytorch")
MODULES = {"numpy": "numpy", "jax": "jax", "pytorch": "torch", "torch": "torch"}  # what each one imports

# y = f(z) and f′ written with the output a = f(z) (or z), as NumPy, JAX and PyTorch spell them
_F = {
    "logistic": ("1 / (1 + {np}.exp(-z))", "a * (1 - a)"),
    "tanh": ("{np}.tanh(z)", "1 - a * a"),
    "relu": ("{np}.maximum(z, 0.0)", "(z > 0) * 1.0"),
    "identity": ("z", "1.0 + 0 * z"),
}
_SOFTMAX = {"numpy": "np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)",
            "jax": "jax.nn.softmax(z, axis=0)", "pytorch": "torch.softmax(z, dim=0)"}


def _matrix(rows: list[list[float]]) -> str:
    return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in rows) + "]"


def _parameters(net: Network) -> tuple[list[str], list[str]]:
    """The weight matrices and bias columns, as Python literals."""
    L = net.layout
    weights = [_matrix([[net.weights[w] for w in row] for row in L.weights[l]]) for l in range(L.depth)]
    biases = []
    for names in L.biases:
        shared = L.bias_mode == "per-layer"
        biases.append(_matrix([[net.biases[names[0]]]] if shared else [[net.biases[b]] for b in names]))
    return weights, biases


def _expected(net: Network) -> tuple[str, str, str]:
    """The tutor's gradients and updated values, as literal tables, and its E_total."""
    L, t = net.layout, run(net)
    rows = []
    for l in range(L.depth):
        for r, row in enumerate(L.weights[l]):
            for s, w in enumerate(row):
                rows.append(f"    {w!r}: ({l}, {r}, {s}, {float(t['dE_total/d' + w])!r}, {float(t[w + '+'])!r}),")
    weights = "{\n" + "\n".join(rows) + "\n}"
    rows = []
    if net.train_biases:
        seen: set[str] = set()
        for l, names in enumerate(L.biases):
            for r, b in enumerate(names):
                if b in seen:
                    continue
                seen.add(b)
                shared = L.bias_mode == "per-layer"
                rows.append(f"    {b!r}: ({l}, {0 if shared else r}, {float(t['dE_total/d' + b])!r}, "
                            f"{float(t[b + '+'])!r}),")
    biases = "{\n" + "\n".join(rows) + "\n}" if rows else "{}"
    return weights, biases, repr(float(t["E_total"]))


def _data(net: Network) -> tuple[str, str]:
    xs = [list(x) for x, _ in net.samples]
    ys = [list(y) for _, y in net.samples]
    return (_matrix([list(col) for col in zip(*xs)]), _matrix([list(col) for col in zip(*ys)]))


def _error_code(net: Network, np: str, a: str) -> str:
    """E_total of the outputs ``a`` and the targets y, summed (or averaged) over the samples."""
    if net.loss == "cross-entropy":
        e = f"{np}.where(y > 0, -y * {np}.log({a}), 0.0).sum()"
    elif net.loss == "binary-cross-entropy" and np == "torch":  # PyTorch's own loss, summed as the tutor's
        e = f"torch.nn.functional.binary_cross_entropy({a}, y, reduction='sum')"
    elif net.loss == "binary-cross-entropy":
        e = f"-(y * {np}.log({a}) + (1 - y) * {np}.log1p(-{a})).sum()"
    else:
        e = f"(0.5 * (y - {a}) ** 2).sum()"
    return f"{e} / {len(net.samples)}" if net.batch == "mean" and net.extra else e


def _activations(net: Network, target: str) -> tuple[str, str]:
    """The source of F (each layer's activation) and, for NumPy, SLOPE (its derivative)."""
    np = {"numpy": "np", "jax": "jnp", "pytorch": "torch"}[target]
    names = list(dict.fromkeys(net.activations))
    defs, slopes = [], []
    for name in names:
        fname = name.replace("-", "_")
        if name == "softmax":
            defs.append(f"def {fname}(z):\n    return {_SOFTMAX[target]}\n")
            continue
        f, slope = _F[name]
        if name == "relu" and target != "numpy":  # their own ReLU, whose slope at 0 is 0, as the tutor's
            f = {"jax": "jax.nn.relu(z)", "pytorch": "torch.relu(z)"}[target]
        defs.append(f"def {fname}(z):\n    return {f.format(np=np)}\n")
        slopes.append(f"def d{fname}(z, a):  # its slope, from z and a = {fname}(z)\n    return {slope}\n")
    source = "\n\n".join(defs + (slopes if target == "numpy" else []))
    table = f"F = [{', '.join(a.replace('-', '_') for a in net.activations)}]  # each layer's activation"
    if target == "numpy":
        table += "\nSLOPE = [" + ", ".join(f"d{a}" if a != "softmax" else "None" for a in net.activations) + "]"
    return source, table


HEADER = '''"""A backprop-tutor lesson: one forward pass, backward pass and update{how}.

Written by backprop-tutor (`backprop-tutor export --to {target}`). It checks every gradient and
updated weight against the tutor's values and prints them beside the lesson's names.
"""

LESSON = {lesson}
'''

CHECKS = '''
# The tutor's values: name: (layer, row, column, dE_total/dname, name after the update)
TUTOR_WEIGHTS = {weights}
TUTOR_BIASES = {biases}  # name: (layer, row, dE_total/dname, name after the update)
TUTOR_E_TOTAL = {error}


def close(mine, tutor):
    return abs(mine - tutor) <= 1e-10 * abs(tutor) + 1e-15  # float rounding: 10 digits and more agree


assert close(float(E_total), TUTOR_E_TOTAL), (float(E_total), TUTOR_E_TOTAL)
print(f"E_total = {{float(E_total):.12g}}")
for name, (l, r, s, grad, new) in TUTOR_WEIGHTS.items():
    assert close(float(dW[l][r, s]), grad), (name, float(dW[l][r, s]), grad)
    assert close(float(W_new[l][r, s]), new), (name + "+", float(W_new[l][r, s]), new)
    print(f"dE_total/d{{name}} = {{float(dW[l][r, s]):.12g}}   {{name}}+ = {{float(W_new[l][r, s]):.12g}}")
for name, (l, r, grad, new) in TUTOR_BIASES.items():
    assert close(float(db[l][r, 0]), grad), (name, float(db[l][r, 0]), grad)
    assert close(float(b_new[l][r, 0]), new), (name + "+", float(b_new[l][r, 0]), new)
    print(f"dE_total/d{{name}} = {{float(db[l][r, 0]):.12g}}   {{name}}+ = {{float(b_new[l][r, 0]):.12g}}")
print(f"All {count} values of the lesson {{LESSON!r}} agree with backprop-tutor.")
'''

NUMPY = '''import numpy as np

x = np.array({x})  # inputs: one column per sample
y = np.array({y})  # targets
W = [{W}]  # W[l][r, s]: into neuron r from neuron s
b = [{b}]  # a column of biases, or one bias the layer shares
eta = {eta}


{activations}

{table}

# Forward: z = W a + b, a = f(z), layer by layer
a, z = [x], []
for Wl, bl, f in zip(W, b, F):
    z.append(Wl @ a[-1] + bl)
    a.append(f(z[-1]))
E_total = {error}

# Backward, the four equations: (1) δᴸ = ∂E/∂aᴸ ⊙ f′(zᴸ)   (2) δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ f′(zˡ)
#                               (3) ∂E/∂bˡ = δˡ            (4) ∂E/∂Wˡ = δˡ (aˡ⁻¹)ᵀ
delta = {delta}  # (1)
dW, db = [None] * len(W), [None] * len(W)
for l in reversed(range(len(W))):
    dW[l] = delta @ a[l].T{scale}  # (4)
    db[l] = delta.sum(axis=1, keepdims=True){scale}  # (3)
    if b[l].shape[0] == 1:  # one bias that the layer shares: a share from each of its neurons
        db[l] = db[l].sum(axis=0, keepdims=True)
    if l > 0:
        delta = (W[l].T @ delta) * SLOPE[l - 1](z[l - 1], a[l])  # (2)

W_new = [Wl - eta * g for Wl, g in zip(W, dW)]
b_new = [{b_new}]
'''

JAX = '''import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

x = jnp.array({x})  # inputs: one column per sample
y = jnp.array({y})  # targets
W = [jnp.array(w) for w in [{W}]]  # W[l][r, s]: into neuron r from neuron s
b = [jnp.array(c) for c in [{b}]]  # a column of biases, or one bias the layer shares
eta = {eta}


{activations}

{table}


def error(W, b):
    a = x
    for Wl, bl, f in zip(W, b, F):
        a = f(Wl @ a + bl)
    return {error}


E_total = error(W, b)
dW, db = jax.grad(error, argnums=(0, 1))(W, b)  # autograd: the backward pass
W_new = [Wl - eta * g for Wl, g in zip(W, dW)]
b_new = [{b_new}]
'''

PYTORCH = '''import torch

x = torch.tensor({x}, dtype=torch.float64)  # inputs: one column per sample
y = torch.tensor({y}, dtype=torch.float64)  # targets
W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in [{W}]]  # W[l][r, s]: into r from s
b = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in [{b}]]  # biases: a column or one shared
eta = {eta}


{activations}

{table}

a = x
for Wl, bl, f in zip(W, b, F):
    a = f(Wl @ a + bl)
E_total = {error}
E_total.backward()  # autograd: the backward pass
dW = [Wl.grad for Wl in W]
db = [bl.grad for bl in b]
with torch.no_grad():
    W_new = [Wl - eta * Wl.grad for Wl in W]
    b_new = [{b_new}]
'''

TEMPLATES = {"numpy": NUMPY, "jax": JAX, "pytorch": PYTORCH}


def program(name: str, net: Network, target: str) -> str:
    """The lesson ``name`` (a bundled name or a path: shown only through repr) as a program for ``target``."""
    if target == "torch":
        target = "pytorch"
    np = {"numpy": "np", "jax": "jnp", "pytorch": "torch"}[target]
    W, b = _parameters(net)
    x, y = _data(net)
    activations, table = _activations(net, target)
    scale = f" / {len(net.samples)}" if net.batch == "mean" and net.extra else ""
    if net.activations[-1] == "softmax":
        delta = "a[-1] * y.sum(axis=0) - y"  # softmax with cross-entropy: out − target
    elif net.loss == "binary-cross-entropy":
        delta = "a[-1] - y"  # logistic outputs with binary cross-entropy: σ′ cancels the loss's denominator
    elif net.loss == "cross-entropy":
        delta = "np.where(y > 0, -y / a[-1], 0.0) * SLOPE[-1](z[-1], a[-1])"
    else:
        delta = "(a[-1] - y) * SLOPE[-1](z[-1], a[-1])"
    if net.train_biases:
        b_new = "bl - eta * g for bl, g in zip(b, db)"
    else:
        b_new = "bl for bl in b"
    body = TEMPLATES[target].format(
        x=x, y=y, W=", ".join(W) if target != "numpy" else ", ".join(f"np.array({w})" for w in W),
        b=", ".join(b) if target != "numpy" else ", ".join(f"np.array({c})" for c in b),
        eta=repr(float(net.learning_rate)), activations=activations, table=table,
        error=_error_code(net, np, 'a[-1]' if target == 'numpy' else 'a'), delta=delta, scale=scale, b_new=b_new)
    weights, biases, error = _expected(net)
    count = 1 + 2 * net.layout.weight_count + (2 * len(net.layout.bias_names()) if net.train_biases else 0)
    how = {"numpy": " by hand in NumPy matrices", "jax": " with JAX's autograd",
           "pytorch": " with PyTorch's autograd"}[target]
    return (HEADER.format(lesson=repr(name), how=how, target=target) + "\n" + body
            + CHECKS.format(weights=weights, biases=biases, error=error, count=count))


def check_target(text: str) -> str:
    """The target named (numpy, jax, pytorch or torch), or the one line that says what can be named."""
    from backprop_tutor.errors import TutorError
    from backprop_tutor.safe_text import echo

    name = text.strip().lower()
    if name == "torch":
        return "pytorch"
    if name not in TARGETS:
        raise TutorError(f"no export target '{echo(text)}': choose numpy, pytorch or jax")
    return name


def run_program(name: str, net: Network, target: str, timeout: float = 600) -> tuple[bool, str]:
    """Run the exported program in a separate Python: (it agreed, one line saying how it went)."""
    import os
    import subprocess
    import sys
    import tempfile

    require(target)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"lesson_{target}.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program(name, net, target))
        try:
            done = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return False, f"✗ {target}: the exported program did not finish in {timeout:g} s"
    if done.returncode == 0:
        lines = done.stdout.strip().splitlines()
        return True, f"✓ {target}: {lines[-1] if lines else 'the exported program ran'}"
    last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return False, f"✗ {target}: the exported program disagrees or failed: {last[:300]}"


def require(target: str) -> None:
    """Say in one line that the library a program needs is not installed here."""
    import importlib.util

    from backprop_tutor.errors import TutorError

    module = MODULES[target]
    if importlib.util.find_spec(module) is None:
        raise TutorError(f"--with {target}: {module} is not installed in this Python (pip install {module})")
