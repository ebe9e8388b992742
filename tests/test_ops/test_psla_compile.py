"""The operator inside a ``torch.compile``d module matches eager mode."""

import pytest
import torch
from conftest import make_inputs
from torch import nn

import mmpsla.ops.psla_op as psla_op
from mmpsla.ops import psla_offsets, sparse_local_attention


class TinyAlign(nn.Module):
    """Embeds two feature maps with 1x1 convs and aligns one to the other with PSLA."""

    def __init__(self, channels: int = 6, embed: int = 4, normalize: str = 'softmax') -> None:
        super().__init__()
        self.f = nn.Conv2d(channels, embed, 1)
        self.g = nn.Conv2d(channels, embed, 1)
        self.normalize = normalize
        self.register_buffer('offsets', psla_offsets(2), persistent=False)

    def forward(self, current: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        query, key = self.g(current), self.f(memory)
        if self.normalize == 'sum':
            query, key = query.relu(), key.relu()
        out, weights = sparse_local_attention(
            query, key, memory, self.offsets, self.normalize, return_weights=True
        )
        return out * 2 + weights.mean(1, keepdim=True)


def _eager_and_compiled(module, backend, fullgraph):
    torch.manual_seed(0)
    current, memory = make_inputs(2, 6, 6, 7, 9, dtype=torch.float64, seed=5)[1:]
    module = module.double()
    results = []
    for mod in (module, torch.compile(module, backend=backend, fullgraph=fullgraph)):
        module.zero_grad()
        c, m = current.detach().requires_grad_(), memory.detach().requires_grad_()
        out = mod(c, m)
        out.square().sum().backward()
        results.append([out, c.grad, m.grad] + [p.grad.clone() for p in module.parameters()])
    return results


# inductor generates and compiles C++ for the convolutions around the op (slow on 2 cores):
# one case; the other checks the graph capture (dynamo + AOTAutograd with the fake and
# autograd registrations) with the aot_eager backend.
@pytest.mark.parametrize('normalize, backend', [('softmax', 'inductor'), ('sum', 'aot_eager')])
def test_torch_compile_matches_eager(require_ext, normalize, backend):
    torch._dynamo.reset()
    eager, compiled = _eager_and_compiled(TinyAlign(normalize=normalize), backend, True)
    for a, b in zip(eager, compiled):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-12)


def test_custom_op_passes_opcheck(require_ext):
    q, k, v = make_inputs(1, 3, 2, 4, 5, seed=2)
    offsets = psla_offsets(1)
    torch.library.opcheck(
        torch.ops.mmpsla.sparse_local_attention_forward.default,
        (q, k, v, offsets, 0),
        test_utils=('test_schema', 'test_autograd_registration', 'test_faketensor'),
    )


def test_torch_compile_with_reference_fallback(monkeypatch):
    monkeypatch.setattr(psla_op, '_ext', None)
    monkeypatch.setattr(psla_op, '_warned', {psla_op._BUILD_HINT})  # already warned
    monkeypatch.setenv('MMPSLA_ALLOW_REFERENCE_OP', '1')
    torch._dynamo.reset()
    eager, compiled = _eager_and_compiled(TinyAlign(), 'eager', False)
    for a, b in zip(eager, compiled):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    torch._dynamo.reset()
