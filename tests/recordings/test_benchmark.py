"""The transcription benchmark runs at its tiniest size and reports its figures and its target
(no timing is asserted: `make bench` measures)."""

from __future__ import annotations

from benchmarks import Options, discover, transcription


def test_the_transcription_benchmark_reports_one_and_two_workers_and_the_scaling():
    assert "transcription" in {benchmark.name for benchmark in discover()}
    one, two, scaling = transcription.run(Options(engines=(), smoke=True))
    assert (one.figures["workers"], two.figures["workers"]) == (1, 2)
    for measured in (one, two):
        assert measured.benchmark == "transcription"
        assert measured.figures["audio s"] > 0 and measured.figures["words"] > 0
        assert measured.figures["x real time"] > 0
    assert one.figures["audio s"] == two.figures["audio s"]
    assert scaling.target == "two workers >= 1.8 x one" and scaling.met in (True, False)
    assert scaling.figures["speed-up"] == round(
        two.figures["x real time"] / one.figures["x real time"], 2
    )
