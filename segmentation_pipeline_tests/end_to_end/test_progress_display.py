import io

from segmentation_pipeline.cli_progress import ProgressDisplay
from segmentation_pipeline.defs.progress import StepProgress


def updates(step: str, total: int) -> list[StepProgress]:
    return [StepProgress(step, done, total, rows=done * 100, seconds=done * 0.5) for done in range(total + 1)]


def test_without_a_terminal_only_finished_steps_print_when_they_are_quick():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=False)
    with display:
        for progress in updates("validated_orders", 3) + updates("validated_usage_events", 2):
            display(progress)
    assert stream.getvalue().splitlines() == [
        "  validated_orders: 3/3 days, 300 rows in 1.5 s",
        "  validated_usage_events: 2/2 days, 200 rows in 1.0 s",
    ]


def test_without_a_terminal_a_long_step_prints_a_line_every_few_seconds(monkeypatch):
    from segmentation_pipeline import cli_progress

    clock = iter([0.0, 2.0, 6.0, 7.0, 12.0])  # start, then one update per call
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=False)
    for progress in updates("raw_usage_events", 4):
        display(progress)
    assert stream.getvalue().splitlines() == [
        "  raw_usage_events: 2/4 days, 200 rows in 1.0 s",
        "  raw_usage_events: 4/4 days, 400 rows in 2.0 s",
    ]


def test_on_a_terminal_each_step_gets_a_bar_with_days_and_rows():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=True)
    with display:
        for progress in updates("validated_orders", 4):
            display(progress)
    text = stream.getvalue()
    assert "validated_orders" in text
    assert "4/4" in text
    assert "400 rows" in text
