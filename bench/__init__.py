"""Benchmarks of Emotion Director on the machine it runs on: `python -m bench` (see `bench.__main__`).

Stages (each a module with a `run_*` function filling a `bench.results.StageResult`):
`analysis`, `render`, `transfer`, `plugin_host`, `melt`, `reference`; `report` writes
`bench/results/<machine>-<date>.json` and `.md`, `targets` checks the issue's acceptance targets.
"""
