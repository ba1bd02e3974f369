"""Face tracking: BlazeFace detection, 468-point landmarks, inner-lip refinement, irises, per-shot
tracking, smoothing."""
