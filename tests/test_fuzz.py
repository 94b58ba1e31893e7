"""Fuzzing the game (``benchmarks/fuzz.py``), and the guarantees its per-frame checks rely on.

A quick fuzz: 3,000 frames of random keyboard, controller, mouse and window events in every
mode (the three tiny real models make up the model folder, so F2 / F3 / F4 and M load them),
recording on and off with F9, on the SDL dummy driver; no exception, the latent always
finite and inside the mode's allowed region, every video left behind decodes.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402

from benchmarks import fuzz  # noqa: E402
from latent_odyssey.game.modes.odyssey.flight import (  # noqa: E402
    MAX_SPEED_U_S,
    Ship,
    ShipControls,
    quat_look_rotation,
)

FUZZ_FRAMES = 3000
FUZZ_SEED = 1  # reaches every mode, records, resizes, quits and unplugs within 3,000 frames
FUZZ_SIZE = (320, 200)
DT = 1 / 60


def test_fuzz_every_mode_without_an_exception_or_a_latent_out_of_bounds(exported_models, exported_face_model, tmp_path):
    models = [exported_models["2d"], exported_models["3d"], exported_face_model]
    t0 = time.perf_counter()
    result = fuzz.run(FUZZ_FRAMES, FUZZ_SEED, models, size=FUZZ_SIZE, workdir=tmp_path)
    seconds = time.perf_counter() - t0
    failure = result["failure"]
    assert failure is None, f"{failure['error']} at frame {failure['frame']}\n{failure['traceback']}"
    assert result["frames"] == FUZZ_FRAMES
    # the stream really did all the things it is there for
    assert set(result["mode_frames"]) == {"navigator", "odyssey", "faces"}, result["mode_frames"]
    assert result["mode_switches"] >= 6 and result["quits"] >= 1 and result["resizes"] >= 1
    events = result["events"]
    for kind in ("KeyDown", "KeyUp", "ControllerButtonDown", "ControllerAxisMotion",
                 "ControllerDeviceAdded", "ControllerDeviceRemoved", "MouseButtonDown",
                 "MouseMotion", "MouseWheel", "VideoResize"):
        assert events.get(kind, 0) >= 1, (kind, events)
    videos = result["recordings"]
    assert videos["videos"] >= 1 and not videos["undecodable"] and not videos["partial_files"], videos
    # the Odyssey ship stayed within the soft wall's guarantee (checked every frame, above)
    flights = [v for k, v in result["max_excursion"].items() if k.startswith("odyssey/")]
    assert flights and max(flights) <= fuzz.pullback_limit_flight_u()
    print(f"fuzz: {FUZZ_FRAMES} frames in {seconds:.1f} s ({result['fps']:.0f} frames/s), "
          f"modes {result['mode_frames']}, excursions {result['max_excursion']}")


def test_the_fuzz_stream_is_reproducible_from_its_seed():
    def stream(seed: int) -> list[tuple]:
        pygame.display.init()
        try:
            pygame.event.clear()
            src = fuzz.EventSource(rng=np.random.default_rng(seed), keys=[pygame.K_w, pygame.K_a],
                                   global_keys={pygame.K_F9: 0.01})
            out = []
            for frame in range(300):
                src.post_frame(frame, (320, 200))
                out += [(e.type, tuple(sorted(e.dict.items(), key=str))) for e in pygame.event.get()]
            return out
        finally:
            pygame.display.quit()

    assert stream(5) == stream(5)
    assert stream(5) != stream(6)


# ----------------------------------------------------------------------------- the regions


@pytest.mark.parametrize("heading", [(1, 0, 0), (1, 1, 0), (1, 1, 1), (0, -1, 0.2)])
def test_soft_wall_holds_the_ship_within_the_pullback_limit(heading):
    """Worst case for the bound: leave the box at top speed, full boost thrust straight out."""
    limit = fuzz.pullback_limit_flight_u()
    lo, hi = -np.ones(3) * 4, np.ones(3) * 4
    direction = np.asarray(heading, float) / np.linalg.norm(heading)
    ship = Ship(position=direction * 3.99, velocity=direction * MAX_SPEED_U_S,
                orientation=quat_look_rotation(direction))
    worst = 0.0
    for _ in range(120 * 20):  # 20 s at the engine's fixed step
        ship.step(1 / 120, ShipControls(thrust=1.0, boost=True), lo, hi)
        outside = np.maximum(ship.position - hi, 0) + np.maximum(lo - ship.position, 0)
        worst = max(worst, float(outside.max()))
    assert worst <= limit
    assert worst > 0.3 * limit  # the bound is not vacuous: boosting gets a fair way out


def test_navigator_slerp_ride_between_near_opposite_marks_stays_on_the_map(exported_models, isolated):
    """Marks on opposite sides of the origin at different distances: the spherical path must
    not swing out to a huge radius (White's slerp with unequal norms does near 180 degrees)."""
    from latent_odyssey.game.modes.navigator.scene import NavigatorScene
    from latent_odyssey.game.play import Game

    eng = Game(exported_models["2d"], headless=True, size=(640, 400), seed=2)
    try:
        eng.loop_once(DT)
        nav = eng.mode_scene
        assert isinstance(nav, NavigatorScene)
        region = fuzz.allowed_region(nav)

        def mark_at(p2: tuple[float, float]) -> None:
            nav.set_position(np.array(p2))  # (the map may not show the origin: no click)
            for kind in (pygame.KEYDOWN, pygame.KEYUP):
                pygame.event.post(pygame.event.Event(kind, key=pygame.K_SPACE, mod=0))
                eng.loop_once(DT)

        mark_at((0.5, 0.02))  # A: near, right of the origin
        mark_at((-2.5, 0.0))  # B: far, left of it (170 degrees from A... almost 180)
        a, b = nav.marks
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        assert cos < -0.99 and abs(np.linalg.norm(a) - np.linalg.norm(b)) > 0.1 * np.linalg.norm(b)
        for key in (pygame.K_i, pygame.K_l):  # interpolate, then ride the spherical path
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
            pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
            eng.loop_once(DT)
        assert nav.strip is not None and nav.follow_slerp
        for z in nav.strip.slerp_z:
            assert region.violation(z) is None
        biggest = max(np.linalg.norm(a), np.linalg.norm(b))
        for _ in range(int(2.6 / DT)):  # the whole ride
            eng.loop_once(DT)
            assert region.violation(nav.z) is None
            assert np.linalg.norm(nav.z) <= biggest * (1 + 1e-9)
    finally:
        eng.shutdown()


def test_latent_adapter_and_regions_cover_every_mode(exported_models, exported_face_model, isolated):
    from latent_odyssey.game.play import Game

    for path, mode in ((exported_models["2d"], "navigator"), (exported_models["3d"], "odyssey"),
                       (exported_face_model, "faces")):
        eng = Game(path, mode=mode, headless=True, size=(320, 200), seed=1)
        try:
            eng.loop_once(DT)
            assert eng.mode_name == mode
            z = fuzz.scene_latent(eng.mode_scene)
            assert z is not None and z.shape == (eng.ctx.model.meta.latent_dim,)
            region = fuzz.allowed_region(eng.mode_scene)
            assert region is not None and region.violation(z) is None
            assert region.violation(np.full_like(z, math.nan)) is not None
            assert region.violation(z + 1e6) is not None
        finally:
            eng.shutdown()


def test_full_boost_against_the_soft_wall_through_the_engine_stays_inside_the_region(exported_models, isolated):
    """Hold thrust + boost (W + Shift) for 15 s of game time, turning now and then: the ship
    goes well outside the bounds, and the soft wall keeps it inside the fuzzer's region."""
    from latent_odyssey.game.play import Game

    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=(320, 200), seed=4)
    try:
        eng.loop_once(DT)
        ody = eng.mode_scene
        region = fuzz.allowed_region(ody)
        for key in (pygame.K_w, pygame.K_LSHIFT):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
        worst = 0.0
        for i in range(15 * 60):
            if i % 240 == 120:  # a half-second turn every 4 s
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d, mod=0))
            if i % 240 == 150:
                pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_d, mod=0))
            eng.loop_once(DT)
            z = ody.latent()
            assert region.violation(z) is None, f"frame {i}: {region.violation(z)}"
            worst = max(worst, region.excursion(z))
        assert ody.mode == "manual"
        assert 1.0 < worst <= fuzz.pullback_limit_flight_u()
    finally:
        eng.shutdown()
