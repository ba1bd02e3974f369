"""Face tracking: BlazeFace detection, 468-point landmarks, irises, per-shot tracking, smoothing."""
