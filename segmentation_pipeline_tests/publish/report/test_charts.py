"""Segment colours: stable per id across snapshots, and never shared within one report."""

from segmentation_pipeline.core.publish.report import segment_colours


def test_segment_colours_follow_ids_and_never_collide():
    assert segment_colours([0, 1, 3])[3] == segment_colours([3, 5])[3]
    assert len(set(segment_colours([0, 10, 20]).values())) == 3
