"""Synthesised sound through pygame.mixer on SDL's dummy audio driver; --mute makes no mixer call."""

from __future__ import annotations

import os

import numpy as np
import pygame
import pytest

from latent_odyssey.game.cli import build_parser
from latent_odyssey.game.engine import audio
from latent_odyssey.game.engine.audio import HUM_PITCHES_HZ, SAMPLE_RATE, Audio

DT = 1 / 60


@pytest.fixture(autouse=True)
def dummy_audio(monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    yield
    if pygame.mixer.get_init():
        pygame.mixer.quit()


def test_the_waves_are_sound_shaped() -> None:
    hum = audio.hum_wave(55)
    assert hum.shape == (SAMPLE_RATE,) and np.abs(hum).max() == pytest.approx(1.0)
    assert abs(hum[0] - hum[-1]) < 0.1  # a seamless loop: the end runs into the start
    spectrum = np.abs(np.fft.rfft(hum))
    assert int(np.argmax(spectrum)) == 55  # 1 Hz bins over one second: the fundamental
    whoosh = audio.whoosh_wave()
    quarters = [np.sqrt(np.mean(q**2)) for q in np.array_split(whoosh, 4)]
    assert quarters[0] < max(quarters[1:]) and quarters[-1] < max(quarters)  # swells, then falls away
    assert np.abs(audio.tick_wave()).max() < 1.0 and len(audio.tick_wave()) < SAMPLE_RATE // 10
    stereo = audio.to_int16(hum, 2)
    assert stereo.dtype == np.int16 and stereo.shape == (SAMPLE_RATE, 2)


def test_sounds_play_on_the_dummy_driver_and_the_hum_follows_speed() -> None:
    a = Audio()
    a.play("tick")
    assert a.available and pygame.mixer.get_init() and a.plays == 1
    a.play("warp")
    assert pygame.mixer.get_busy()
    for _ in range(120):
        a.hum(0.0)
    idle = a.hum_volumes
    for _ in range(120):
        a.hum(1.0)
    fast = a.hum_volumes
    assert np.argmax(idle) == 0 and np.argmax(fast) == len(HUM_PITCHES_HZ) - 1  # the pitch rises
    assert sum(fast) > 2 * sum(idle)  # and it gets louder
    assert a.toggle_mute() is True
    a.play("tick")
    assert a.plays == 2  # muted: nothing more is started
    with pytest.raises(KeyError):
        a.play("no such sound")
    a.close()
    assert not pygame.mixer.get_init()


def test_no_audio_device_is_silence_not_an_error(monkeypatch) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    a = Audio()
    a.play("warp")
    a.hum(0.5)
    assert a.available is False and a.reason and a.plays == 0


def test_mute_makes_no_mixer_call_in_the_game(exported_models, isolated) -> None:
    from latent_odyssey.game.play import Game

    assert build_parser().parse_args(["play", "--mute"]).mute is True
    assert build_parser().parse_args(["play"]).mute is False
    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=(320, 200), mute=True)
    try:
        down = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_j, mod=0)
        pygame.event.post(down)
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0))
        for _ in range(90):  # a warp and thrust: sounds that would play
            eng.loop_once(DT)
        assert eng.mode_scene.flash > 0 or eng.mode_scene.mode == "manual"
        assert not pygame.mixer.get_init() and eng.audio.plays == 0
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F8, mod=0))
        eng.loop_once(DT)  # F8 unmutes: the mixer opens now, with the dummy driver
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_j, mod=0))
        for _ in range(3):
            eng.loop_once(DT)
        assert pygame.mixer.get_init() and eng.audio.plays >= 1
        assert any(text == "Sound: on" for text, _ in eng.ctx.notices)
    finally:
        eng.shutdown()
    assert not pygame.mixer.get_init()  # shutdown closed what the game opened


def test_the_odyssey_hums_and_whooshes_in_the_engine(exported_models, isolated) -> None:
    from latent_odyssey.game.play import Game

    assert os.environ["SDL_AUDIODRIVER"] == "dummy"
    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=(320, 200))
    try:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0))
        for _ in range(60):
            eng.loop_once(DT)
        assert eng.audio.available and sum(eng.audio.hum_volumes) > 0
        plays = eng.audio.plays
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_j, mod=0))
        eng.loop_once(DT)
        assert eng.audio.plays == plays + 1  # the warp's whoosh
    finally:
        eng.shutdown()
