"""Traffic profiles (``loadtests/profiles/*.yaml``): what a realistic load test sends.

A profile says the target rate, the think time of one simulated user, the shape of the run
(ramp → steady at the target → spike), the endpoint mix, and the segment popularity taken
from the data (``loadtests/make_profile.py`` writes it from the ``users`` table). The
locustfile and ``shiftgate.load.run`` read the same file, so ``locust -f`` on its own and the
gate send the same traffic.
"""

from __future__ import annotations

import bisect
import math
import random
from itertools import accumulate
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shiftgate.config.files import first_error, read_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Shape(_Strict):
    ramp_s: float = Field(5, ge=0, description="Users grow linearly to the steady count.")
    steady_s: float = Field(20, gt=0, description="Held at the target rate: what is measured.")
    spike_s: float = Field(5, ge=0, description="A burst above the target at the end.")
    spike_factor: float = Field(1.5, ge=1, description="Users during the spike / steady users.")

    @property
    def duration_s(self) -> float:
        return self.ramp_s + self.steady_s + self.spike_s


class Mix(_Strict):
    """Relative weights of the endpoints a user calls."""

    recommendations: int = Field(19, ge=0)
    health: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _something(self) -> Mix:
        if self.recommendations + self.health == 0:
            raise ValueError("the mix needs at least one endpoint with a weight above 0")
        return self


class SegmentPopularity(_Strict):
    segment: int
    share: float = Field(gt=0)
    users: list[int] = Field(min_length=1, description="Sample of this segment's user ids.")


class Segments(_Strict):
    source: str = Field(description="Where the popularity was read from, and when.")
    popularity: list[SegmentPopularity] = Field(min_length=1)


class LoadProfile(_Strict):
    name: str
    description: str = ""
    target_rps: float = Field(gt=0, description="Request rate held during the steady phase.")
    per_user_rps: float = Field(
        2.0, ge=0, description="Each user's pace (think time); 0: no think time at all."
    )
    users: int | None = Field(
        None, ge=1, description="Steady users; default: target_rps / per_user_rps."
    )
    shape: Shape = Field(default_factory=Shape)
    mix: Mix = Field(default_factory=Mix)
    min_requests: int = Field(100, ge=1, description="Fewer requests than this: not a real load.")
    segments: Segments

    @model_validator(mode="after")
    def _users_known(self) -> LoadProfile:
        if self.users is None and self.per_user_rps == 0:
            raise ValueError("per_user_rps 0 (no think time) needs an explicit users count")
        return self

    @property
    def steady_users(self) -> int:
        if self.users is not None:
            return self.users
        return max(1, math.ceil(self.target_rps / self.per_user_rps))

    def users_at(self, t: float) -> int | None:
        """The shape: user count at ``t`` seconds into the run, None once it is over."""
        shape, steady = self.shape, self.steady_users
        if t < shape.ramp_s:
            return max(1, math.ceil(steady * t / shape.ramp_s))
        if t < shape.ramp_s + shape.steady_s:
            return steady
        if t < shape.duration_s:
            return math.ceil(steady * shape.spike_factor)
        return None


class UserPicker:
    """Draws user ids so segments get their share of requests (one pass of bisect per pick)."""

    def __init__(self, segments: Segments, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._segments = segments.popularity
        self._cumulative = list(accumulate(s.share for s in self._segments))

    def pick(self) -> int:
        x = self._rng.random() * self._cumulative[-1]
        segment = self._segments[bisect.bisect_right(self._cumulative, x)]
        return self._rng.choice(segment.users)


def load_profile(path: str | Path) -> LoadProfile:
    path = Path(path)
    raw = read_mapping(path, missing="no such load profile")
    try:
        return LoadProfile.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc, str(path)) from None
