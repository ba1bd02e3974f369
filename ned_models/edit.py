"""What the user asks for at one frame: the emotion, how much of it, and how to render it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Emotion", "RendererKind", "EditParams"]


class Emotion(enum.IntEnum):
    """NED's seven labels, in NED's order (the value is NED's label id)."""

    NEUTRAL = 0
    ANGRY = 1
    DISGUSTED = 2
    FEARFUL = 3
    HAPPY = 4
    SAD = 5
    SURPRISED = 6

    @classmethod
    def parse(cls, name: str) -> Emotion:
        """Accept the label names users type ("happy", "Fear", "surprise" ...)."""
        key = name.strip().upper()
        aliases = {"FEAR": "FEARFUL", "DISGUST": "DISGUSTED", "SURPRISE": "SURPRISED", "ANGER": "ANGRY",
                   "HAPPINESS": "HAPPY", "SADNESS": "SAD"}
        key = aliases.get(key, key)
        if key not in cls.__members__:
            raise ValueError(f"unknown emotion {name!r}; choose one of "
                             + ", ".join(e.name.lower() for e in cls))
        return cls[key]


class RendererKind(enum.Enum):
    WARP = "warp"                # the source's own pixels moved to the edited geometry
    NEURAL = "neural"            # the shot's trained neural face renderer
    PASSTHROUGH = "passthrough"  # the face patch cut out and returned unedited
    DEBUG = "debug"              # tracking overlay (mesh, iris, pose axes)


@dataclass(frozen=True)
class EditParams:
    """The effect's parameters at one frame (already interpolated by the host).

    Attributes:
        emotion: the target emotion.
        intensity: 0 = the source, 1 = a clear but natural expression, about 1.33 the acted level
            (MEAD level 3; `manipulation.emotions.ACTED_INTENSITY`), up to 1.5.
        mouth_preservation: 1 = inner-lip aperture and jaw follow the source; 0 = the mouth is free.
        face_index: 0 = the largest face of the shot.
        renderer: how the edited face is drawn.
        feather: mask edge softness, a fraction of the face size (0..1).
    """

    emotion: Emotion = Emotion.HAPPY
    intensity: float = 1.0
    mouth_preservation: float = 1.0
    face_index: int = 0
    renderer: RendererKind = RendererKind.WARP
    feather: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.intensity <= 1.5:
            raise ValueError(f"intensity {self.intensity:g} out of range 0..1.5")
        if not 0.0 <= self.mouth_preservation <= 1.0:
            raise ValueError(f"mouth preservation {self.mouth_preservation:g} out of range 0..1")
        if self.face_index < 0:
            raise ValueError(f"face index {self.face_index} must be >= 0")
        if not 0.0 <= self.feather <= 1.0:
            raise ValueError(f"feather {self.feather:g} out of range 0..1")

    @property
    def is_identity(self) -> bool:
        """True when the edit cannot change a pixel (so the renderer may be skipped)."""
        return self.intensity == 0.0 and self.renderer in (RendererKind.WARP, RendererKind.NEURAL)
