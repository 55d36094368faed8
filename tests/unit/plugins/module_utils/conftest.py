"""A clock the polling loops of module_utils (http_poll, job_poll) take instead of time's: the
tests run in no time and assert exactly when a loop gave up."""
import pytest


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()
