"""srcgrad's PyTorch surface against PyTorch's recorded results (torch is not needed here).

The scenarios are in pytorch_scenarios.py; what PyTorch returned for each is in
pytorch_recorded.py. test_torch_parity.py runs the same scenarios against a live torch.
"""
import pytest

import srcgrad
from pytorch_recorded import RECORDED
from pytorch_scenarios import SCENARIOS, assert_same


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_results_as_pytorch_recorded(scenario):
    assert_same(scenario(srcgrad), RECORDED[scenario.__name__], scenario.__name__)


def test_every_scenario_has_a_recording():
    assert sorted(RECORDED) == sorted(s.__name__ for s in SCENARIOS)
