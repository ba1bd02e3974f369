"""The 3D face model: neutral template, action-unit basis, per-frame fit, per-shot identity."""
