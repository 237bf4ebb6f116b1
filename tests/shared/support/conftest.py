from __future__ import annotations

import pytest

from shared.operators.models import Operator
from tests.shared.support.helpers import support_operator


@pytest.fixture
def operator() -> Operator:
    return support_operator()
