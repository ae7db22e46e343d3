"""Production-shaped traffic for the recommendation service, as a plain Locust locustfile.

    locust -f loadtests/recommendations.py --host http://127.0.0.1:PORT --headless
    SHIFTGATE_LOAD_PROFILE=loadtests/profiles/other.yaml locust -f loadtests/recommendations.py ...

The profile (default ``loadtests/profiles/sandbox.yaml``) sets the target rate, think time,
endpoint mix, the ramp → steady → spike shape, and the segment popularity read from the
data. ``shiftgate.load.run`` builds the same classes with ``build()`` for its in-process runs.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import FastHttpUser, LoadTestShape, constant, constant_throughput

from shiftgate.load.profile import LoadProfile, UserPicker, load_profile

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "sandbox.yaml"
PROFILE_ENV = "SHIFTGATE_LOAD_PROFILE"
RECOMMENDATIONS = "/recommendations"
HEALTH = "/healthz"


def build(profile: LoadProfile) -> tuple[type[FastHttpUser], type[LoadTestShape]]:
    """The user and shape classes for one profile."""
    picker = UserPicker(profile.segments, random.Random())

    def recommendations(user: FastHttpUser) -> None:
        # One name for every user id: statistics per endpoint, not per URL.
        user.client.get(f"{RECOMMENDATIONS}?user_id={picker.pick()}", name=RECOMMENDATIONS)

    def health(user: FastHttpUser) -> None:
        user.client.get(HEALTH, name=HEALTH)

    weights = {recommendations: profile.mix.recommendations, health: profile.mix.health}

    class RecommendationUser(FastHttpUser):
        """A user of the recommendation page, pacing itself at the profile's think time."""

        # In the class body: Locust's metaclass turns the weights into its task list.
        tasks = {task: weight for task, weight in weights.items() if weight}
        wait_time = (
            constant_throughput(profile.per_user_rps) if profile.per_user_rps else constant(0)
        )

    class ProfileShape(LoadTestShape):
        """Ramp → steady at the target rate → spike, then stop."""

        def tick(self) -> tuple[int, float] | None:
            users = profile.users_at(self.get_run_time())
            if users is None:
                return None
            # Spawn fast: the shape, not the spawn rate, decides the ramp.
            return users, float(max(users, 10))

    return RecommendationUser, ProfileShape


# What `locust -f` finds: the classes of the profile named by the environment.
RecommendationUser, ProfileShape = build(load_profile(os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)))
