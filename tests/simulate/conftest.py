"""Shared fixtures for the simulate tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Small tensors: one thread avoids OpenMP spin-waits on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
