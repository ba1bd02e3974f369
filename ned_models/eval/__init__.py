"""Evaluation of edits with models independent of the product's own face tracker.

Modules (import what you need; nothing here loads a model at import time):
    reference_landmarks  dlib 68-point landmarker (`Dlib68`), `inner_lip_aperture`, `inter_ocular_distance`
    emotion_classifier   fer mini-XCEPTION scores in NED's label order (`FerClassifier`)
    identity             dlib 128-D face descriptor and source/edit distances
    metrics              clip-level speech and emotion scores from per-frame series
    image_metrics        face region, sharpness, edit magnitude, square crops
    flicker              face-region temporal flicker (`FlickerMeter`)
    exactness            outside-patch bit-exactness against patch placements
    clips                reading videos, image folders and .npy arrays as frames
    report               `evaluate_edit(...) -> EditReport`, JSON output
    contact_sheet        source | edit sheet with per-frame P(target)
    __main__             the `ned-eval` command
"""
