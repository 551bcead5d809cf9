"""What a prompt asks for, as the emulator's image model reads it: a small typed scene description.

:func:`parse_prompt` maps words to a scene kind (street, portrait, product, landscape, interior, action), a
light (golden hour, night, overcast, neon, studio, candle, day), a shot type (close-up, medium, wide), the
number of light sources in the picture, whether the scene is busy, colour words and the "still-image"
phrases (trending on ArtStation, 8k, ...) that clutter a picture. Pure; the renderers and the failure rules
both read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CLUTTER_PHRASES", "COLOURS", "SceneSpec", "has_phrase", "parse_prompt"]

KINDS = ("street", "portrait", "product", "landscape", "interior", "action")
LIGHTS = ("day", "golden", "overcast", "night", "neon", "studio", "candle")
SHOTS = ("close", "medium", "wide")

#: colour words -> linear-ish RGB, the subject's (clothing, product) colour when the prompt names one
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.70, 0.10, 0.08), "crimson": (0.62, 0.06, 0.12), "orange": (0.85, 0.42, 0.10),
    "yellow": (0.86, 0.74, 0.16), "gold": (0.80, 0.62, 0.22), "green": (0.16, 0.52, 0.20),
    "teal": (0.10, 0.48, 0.50), "blue": (0.12, 0.26, 0.70), "navy": (0.08, 0.12, 0.36),
    "purple": (0.42, 0.16, 0.58), "pink": (0.86, 0.46, 0.60), "white": (0.86, 0.86, 0.84),
    "black": (0.07, 0.07, 0.08), "grey": (0.46, 0.46, 0.47), "gray": (0.46, 0.46, 0.47),
    "brown": (0.42, 0.26, 0.14), "silver": (0.66, 0.68, 0.72),
}  # fmt: skip

# Word lists, matched as whole words (a few as phrases), first match wins in the order of _KIND_ORDER.
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "street": ("street", "alley", "city", "cityscape", "downtown", "avenue", "market", "traffic", "crosswalk",
               "boulevard", "sidewalk", "tokyo", "shibuya"),
    "action": ("running", "runner", "sprint", "sprinting", "jumping", "cyclist", "cycling", "skateboard",
               "skater", "surfer", "surfing", "racing", "race", "dancer", "dancing", "fight", "chase",
               "football", "basketball", "rider", "galloping", "action"),
    "product": ("product", "bottle", "teapot", "cup", "mug", "watch", "perfume", "sneaker", "shoe", "phone",
                "headphones", "vase", "jar", "packshot", "tabletop", "sunglasses", "handbag", "camera"),
    "interior": ("interior", "room", "kitchen", "bedroom", "living", "library", "cafe", "restaurant", "bar",
                 "office", "hall", "corridor", "church", "studio apartment", "lobby", "workshop", "museum"),
    "portrait": ("portrait", "face", "headshot", "woman", "man", "girl", "boy", "person", "keeper", "chef",
                 "model", "actor", "musician", "farmer", "child", "elderly", "dragon", "astronaut"),
    "landscape": ("landscape", "valley", "mountain", "mountains", "hills", "field", "meadow", "forest", "lake",
                  "river", "desert", "dune", "coast", "beach", "ocean", "sea", "cliff", "canyon", "glacier"),
}  # fmt: skip
_KIND_ORDER = ("street", "action", "product", "interior", "portrait", "landscape")

_LIGHT_WORDS: dict[str, tuple[str, ...]] = {
    "neon": ("neon", "cyberpunk", "synthwave", "led signs", "signs glowing"),
    "candle": ("candle", "candles", "candlelight", "candlelit", "fireplace", "lanterns"),
    "night": ("night", "midnight", "nighttime", "moonlight", "moonlit", "after dark"),
    "golden": ("golden hour", "sunset", "sunrise", "golden", "dusk", "warm evening"),
    "studio": ("studio", "softbox", "soft box", "seamless", "backdrop"),
    "overcast": ("overcast", "cloudy", "diffuse", "fog", "foggy", "mist", "misty", "rainy day", "neutral"),
    "day": ("daylight", "sunny", "midday", "noon", "bright day", "morning"),
}  # fmt: skip
_LIGHT_ORDER = ("neon", "candle", "night", "golden", "studio", "overcast", "day")

#: words for a light source each; plural or "multiple/several/many" counts as several
_SOURCE_WORDS = ("neon", "candle", "candles", "lamp", "lamps", "lantern", "lanterns", "string lights",
                 "fairy lights", "chandelier", "streetlights", "street lights", "headlights", "spotlights",
                 "light sources", "fireplace", "torches", "signs")  # fmt: skip
_SEVERAL = ("multiple", "several", "many", "dozens", "rows of", "lots of", "string", "fairy")
_BUSY_WORDS = ("crowd", "crowded", "busy", "market", "bustling", "traffic", "festival", "cluttered",
               "packed", "rush hour", "parade", "many people", "street", "city")  # fmt: skip
#: the still-image phrases that make an image model pile up detail ("trending on ArtStation" style)
CLUTTER_PHRASES = ("trending on artstation", "artstation", "highly detailed", "hyper detailed",
                   "ultra detailed", "ultra-detailed", "intricate", "masterpiece", "8k", "4k", "octane render",
                   "unreal engine")  # fmt: skip


@dataclass(frozen=True)
class SceneSpec:
    """What the prompt asks for. ``lights``: light sources in the picture (0 = only sun/sky or one key)."""

    kind: str
    light: str
    shot: str
    subject: str
    colour: str | None
    lights: int
    busy: bool
    clutter: bool
    rain: bool

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def has_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def _first(text: str, order: tuple[str, ...], words: dict[str, tuple[str, ...]], default: str) -> str:
    for name in order:
        if any(has_phrase(text, w) for w in words[name]):
            return name
    return default


def _subject(text: str) -> str:
    m = re.search(r"\bof (?:a|an|the|two|three|some)?\s*([a-z-]+(?: [a-z-]+)?)", text)
    if not m:
        return ""
    words = [w for w in m.group(1).split() if w not in COLOURS]
    return " ".join(words)


def parse_prompt(prompt: str) -> SceneSpec:
    """The scene a prompt describes (deterministic, case-insensitive, unknown words ignored)."""
    text = " ".join(prompt.lower().split())
    kind = _first(text, _KIND_ORDER, _KIND_WORDS, "landscape")
    light = _first(text, _LIGHT_ORDER, _LIGHT_WORDS, "studio" if kind == "product" else "day")
    if any(has_phrase(text, w) for w in ("close-up", "close up", "closeup", "headshot")):
        shot = "close"
    elif any(has_phrase(text, w) for w in ("wide", "long shot", "establishing", "full shot", "full body")):
        shot = "wide"
    else:
        shot = "medium"
    colour = next((c for c in COLOURS if has_phrase(text, c)), None)
    sources = [w for w in _SOURCE_WORDS if has_phrase(text, w)]
    several = any(has_phrase(text, w) for w in _SEVERAL) or any(w.endswith("s") for w in sources)
    lights = 0 if not sources else (len(sources) + (3 if several else 0))
    if light == "neon" and lights < 3:
        lights = 3  # a neon scene is lit by its signs
    busy = kind in ("street", "action") or any(has_phrase(text, w) for w in _BUSY_WORDS)
    clutter = any(has_phrase(text, p) for p in CLUTTER_PHRASES)
    rain = any(has_phrase(text, w) for w in ("rain", "rainy", "raining", "wet", "drizzle", "storm"))
    return SceneSpec(kind, light, shot, _subject(text), colour, lights, busy, clutter, rain)
