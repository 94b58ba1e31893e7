"""Synthesised sound: numpy makes every sample, ``pygame.mixer`` plays them; no sound files.

* ``hum(level)``: the ship's engine hum, ``level`` in [0, 1] (speed / top speed). Several
  seamless one-second drones at rising pitches loop at once; each frame their volumes
  cross-fade toward the pair around the level, so the pitch and the loudness follow the speed.
* ``play(name)``: one-shot sounds, :data:`SOUNDS`: ``warp`` (a filtered-noise whoosh that
  sweeps up and falls away), ``tick`` (a soft UI click for toggles), ``arrive`` (a low bell).
* ``toggle_mute()`` (the global ``mute`` action, F8) and ``Audio(muted=True)`` (``odyssey
  play --mute``). A muted Audio makes no mixer call at all: the mixer is opened lazily, by the
  first sound that is actually to be heard.
* No audio device (CI, SSH, a server) means silence, never an error: if the mixer cannot open,
  ``available`` becomes False and every call is a no-op. SDL's ``dummy`` audio driver plays
  into the void, which is how the tests run the real code.

All sounds are made once, when the mixer opens (~20 ms of numpy). Sample rate
:data:`SAMPLE_RATE`, 16-bit, in the mixer's channel count.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

SAMPLE_RATE = 22050  # Hz
BUFFER = 512  # samples per mixer buffer (~23 ms: low latency for ticks)
HUM_PITCHES_HZ = (48, 55, 64, 74, 86, 100)  # drone fundamentals, slow to fast (whole Hz: seamless 1 s loops)
HUM_IDLE_VOLUME = 0.05  # hum loudness at rest ...
HUM_TOP_VOLUME = 0.22  # ... and at top speed
HUM_SMOOTHING = 0.15  # fraction of the way to the target volumes per hum() call
MIXER_VOLUME_STEPS = 128  # SDL_mixer's volume resolution (MIX_MAX_VOLUME)
WARP_S = 0.9
TICK_S = 0.045
ARRIVE_S = 0.7
PEAK = 0.8  # full scale of the synthesised waves, before the mixer's volume
SOUNDS = ("warp", "tick", "arrive")


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE  # (N,)


def hum_wave(freq_hz: int) -> np.ndarray:
    """A one-second drone at ``freq_hz`` that loops without a click: whole-Hz partials (the
    fundamental, a detuned octave for a slow beat, a fifth, a sub-octave).  # -> (N,) in [-1, 1]"""
    t = _t(1.0)
    f = float(freq_hz)
    w = (np.sin(2 * math.pi * f * t) + 0.55 * np.sin(2 * math.pi * (2 * f + 1) * t)
         + 0.25 * np.sin(2 * math.pi * 3 * f * t) + 0.35 * np.sin(2 * math.pi * round(f / 2) * t))
    return w / np.max(np.abs(w))


def whoosh_wave(seed: int = 7) -> np.ndarray:
    """Noise through a band that sweeps up then falls away, with a swell.  # -> (N,) in [-1, 1]"""
    n = int(SAMPLE_RATE * WARP_S)
    noise = np.random.default_rng(seed).standard_normal(n)
    spec = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)  # (F,)
    t = np.arange(n) / n  # (N,) 0..1
    out = np.zeros(n)
    bands = np.geomspace(150.0, 3200.0, 8)  # band centres, Hz
    centre = 150.0 * (3200.0 / 150.0) ** np.sin(np.pi * np.clip(t / 0.8, 0.0, 1.0)) ** 1.5  # (N,) sweep
    for fc in bands:
        shaped = np.fft.irfft(spec * np.exp(-0.5 * (np.log(np.maximum(freqs, 1.0) / fc) / 0.35) ** 2), n)
        weight = np.exp(-0.5 * (np.log(centre / fc) / 0.45) ** 2)  # (N,) how much of this band now
        out += shaped * weight
    env = np.sin(np.pi * np.clip(t, 0.0, 1.0)) ** 1.2 * np.exp(-1.5 * t)
    out *= env
    return out / max(1e-9, np.max(np.abs(out)))


def tick_wave() -> np.ndarray:
    """A soft click: a short high sine blip with a fast decay.  # -> (N,)"""
    t = _t(TICK_S)
    return np.sin(2 * math.pi * 1320.0 * t) * np.exp(-t / 0.009) * 0.6


def arrive_wave() -> np.ndarray:
    """A low bell for arrivals: inharmonic partials, slow decay.  # -> (N,)"""
    t = _t(ARRIVE_S)
    w = sum(a * np.sin(2 * math.pi * f * t) for f, a in ((220.0, 1.0), (551.0, 0.4), (882.0, 0.2)))
    return w * np.exp(-t / 0.22) / 1.6


def to_int16(wave: np.ndarray, channels: int) -> np.ndarray:
    """A mono float wave in [-1, 1] as int16 samples for the mixer.  # (N,) -> (N, channels)"""
    s = np.clip(wave * PEAK, -1.0, 1.0) * 32767.0
    s = s.astype(np.int16)
    return np.ascontiguousarray(np.repeat(s[:, None], channels, axis=1)) if channels > 1 else s


class Audio:
    """The game's sounds (see the module docstring). Safe to call every frame."""

    def __init__(self, muted: bool = False) -> None:
        self.muted = bool(muted)
        self.available: bool | None = None  # None until the mixer is first needed
        self.reason = ""  # why there is no sound, when available is False
        self.plays = 0  # one-shot sounds started (tests)
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        self._hum: list[tuple[pygame.mixer.Sound, pygame.mixer.Channel | None]] = []
        self._hum_volumes = [0.0] * len(HUM_PITCHES_HZ)
        self._hum_sent: list[int] = []  # the volumes last given to the hum channels, in mixer steps
        self._opened_mixer = False

    def _ready(self) -> bool:
        """Open the mixer and make the sounds, once; False when muted or there is no device."""
        if self.muted:
            return False
        if self.available is None:
            self.available = self._open()
        return bool(self.available)

    def _open(self) -> bool:
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=SAMPLE_RATE, size=-16, channels=2, buffer=BUFFER)
                self._opened_mixer = True
            init = pygame.mixer.get_init()
            if not init:
                self.reason = "the mixer did not start"
                return False
            channels = int(init[2])
            make = pygame.sndarray.make_sound
            self._sounds = {
                "warp": make(to_int16(whoosh_wave(), channels)),
                "tick": make(to_int16(tick_wave(), channels)),
                "arrive": make(to_int16(arrive_wave(), channels)),
            }
            pygame.mixer.set_num_channels(max(pygame.mixer.get_num_channels(), len(HUM_PITCHES_HZ) + 8))
            self._hum = []
            self._hum_sent = [0] * len(HUM_PITCHES_HZ)
            for i, f in enumerate(HUM_PITCHES_HZ):
                snd = make(to_int16(hum_wave(f), channels))
                ch = pygame.mixer.Channel(i)
                ch.play(snd, loops=-1)
                ch.set_volume(0.0)
                self._hum.append((snd, ch))
            pygame.mixer.set_reserved(len(HUM_PITCHES_HZ))  # one-shots never take a hum channel
            return True
        except (pygame.error, NotImplementedError, ValueError) as exc:  # no device: silence
            self.reason = str(exc) or type(exc).__name__
            return False

    def play(self, name: str) -> None:
        """Start one of :data:`SOUNDS` (unknown names are an error in our code: KeyError)."""
        if name not in SOUNDS:
            raise KeyError(f"no sound called {name!r}")
        if self._ready():
            self._sounds[name].play()
            self.plays += 1

    def hum(self, level: float) -> None:
        """Set the engine hum for speed ``level`` in [0, 1] (call once per simulation step)."""
        if not self._ready():
            return
        level = min(1.0, max(0.0, float(level))) if math.isfinite(level) else 0.0
        pos = level * (len(HUM_PITCHES_HZ) - 1)
        i = min(int(pos), len(HUM_PITCHES_HZ) - 2)
        f = pos - i
        loud = HUM_IDLE_VOLUME + (HUM_TOP_VOLUME - HUM_IDLE_VOLUME) * level
        target = [0.0] * len(HUM_PITCHES_HZ)  # (a few floats: plain Python, twice a frame)
        target[i], target[i + 1] = loud * (1.0 - f), loud * f
        volumes = [v + HUM_SMOOTHING * (t - v) for v, t in zip(self._hum_volumes, target, strict=True)]
        self._hum_volumes = volumes
        for j, ((_, ch), v) in enumerate(zip(self._hum, volumes, strict=True)):
            step = round(v * MIXER_VOLUME_STEPS)
            if ch is not None and step != self._hum_sent[j]:  # a call takes the audio lock: only on a change
                ch.set_volume(step / MIXER_VOLUME_STEPS)
                self._hum_sent[j] = step

    @property
    def hum_volumes(self) -> list[float]:
        """The hum loops' current volumes, slow to fast pitch."""
        return list(self._hum_volumes)

    def toggle_mute(self) -> bool:
        """Mute or unmute; returns whether muted now."""
        self.muted = not self.muted
        if self.muted and self.available:
            pygame.mixer.pause()
        elif not self.muted and self.available:
            pygame.mixer.unpause()
        return self.muted

    def close(self) -> None:
        """Stop everything and close the mixer if this Audio opened it."""
        if self.available and self._opened_mixer and pygame.mixer.get_init():
            pygame.mixer.quit()
        self.available = None
        self._sounds, self._hum = {}, []
        self._opened_mixer = False
