"""Which documented shape the simulator serves where the reference documents several.

``api-reference.md`` marks places where the public docs (mirror of 2026-08) and the official SDK
(2.12, 2026-11) disagree on a response shape (DIVERGES / UNCONFIRMED). A real server sends one of
them; a client must read each. The simulator serves:

- ``both``: the union of the two (the default; what the reference's "fake server" notes ask for);
- ``docs``: the docs' shape alone;
- ``sdk``: the SDK's shape alone.

The places (see docs/simulator.md, "Documented variants"): the summaries envelope and record (B1), the
engagement user record (B2), Claude Tag's product spelling on the legacy reports (B8-B11), the actor of
the per-user reports (B10/B11), the API key object (A9) and the authentication header (0.1).
"""

from __future__ import annotations

SHAPES = ("both", "docs", "sdk")
DEFAULT_SHAPES = "both"


def check_shapes(value: str) -> str:
    if value not in SHAPES:
        raise ValueError(f"shapes: expected one of {', '.join(SHAPES)}, got {value!r}")
    return value


def serves_docs(shapes: str) -> bool:
    """Whether the docs' variant (alone or in the union) is served."""
    return shapes in ("both", "docs")


def serves_sdk(shapes: str) -> bool:
    """Whether the SDK's variant (alone or in the union) is served."""
    return shapes in ("both", "sdk")
