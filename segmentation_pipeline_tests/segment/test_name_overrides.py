"""The marketers' segment names: every fault of `segment_names.json` is one clear error naming the file, and the
names are laid over the model's generated ones at every scoring, so an edit shows without a refit."""

from datetime import date

import pandas as pd
import pytest

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.name_overrides import apply_name_overrides, read_name_overrides
from segmentation_pipeline.core.segment.registry import save_model
from segmentation_pipeline.core.segment.snapshot import assign_segments, quarter_model
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table, write_snapshot_table
from segmentation_pipeline.core.value.model import NoValueModel

ID_HINT = 'is not a segment id (expected a whole number such as "3")'


def names_file(tmp_path, text: str):
    path = tmp_path / "config" / "segment_names.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def names_error(tmp_path, text: str) -> str:
    path = names_file(tmp_path, text)
    with pytest.raises(PipelineError) as info:
        read_name_overrides(path)
    return str(info.value).replace(str(path), "segment_names.json")


def test_names_are_read_by_segment_id_and_trimmed(tmp_path):
    path = names_file(tmp_path, '{"3": " Weekend browsers ", "12": "Night readers", "4": "VIP"}')
    assert read_name_overrides(path) == {3: "Weekend browsers", 12: "Night readers", 4: "VIP"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"3": "a",}', "not valid JSON at line 1, column 11: Expecting property name enclosed in double quotes"),
        ("{'3': 'a'}", "not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
        ("", 'the file is empty; expected an object such as {"3": "Weekend browsers"}'),
        ('["Weekend browsers"]', 'expected an object of segment ids and names such as {"3": "Weekend browsers"}, '
         "found a list"),
        ('"Weekend browsers"', 'expected an object of segment ids and names such as {"3": "Weekend browsers"}, '
         "found the text 'Weekend browsers'"),
        ('{"three": "a"}', f"key 'three' {ID_HINT}"),
        ('{"-1": "a"}', f"key '-1' {ID_HINT}"),
        ('{"3.0": "a"}', f"key '3.0' {ID_HINT}"),
        ('{"": "a"}', f"key '' {ID_HINT}"),
        ('{"3": 7}', "the name of segment 3 must be text in quotes, found the number 7"),
        ('{"3": null}', "the name of segment 3 must be text in quotes, found null"),
        ('{"3": true}', "the name of segment 3 must be text in quotes, found true"),
        ('{"3": ["a"]}', "the name of segment 3 must be text in quotes, found a list"),
        ('{"3": {"name": "a"}}', "the name of segment 3 must be text in quotes, found an object"),
        ('{"3": "  "}', "the name of segment 3 is empty"),
        ('{"3": "' + "n" * 100_000 + '"}', "the name of segment 3 is 100,000 characters long; at most 100 are allowed"),
        ('{"3": "a", "3": "b"}', "segment 3 is named twice"),
        ('{"3": "a", "03": "b"}', "segment 3 is named twice"),
        ('{"3": "Night readers", "4": "night readers "}', "the name 'Night readers' is used for segments 3 and 4"),
    ],
)  # fmt: skip
def test_each_fault_of_the_names_file_is_one_clear_error(tmp_path, text, message):
    assert names_error(tmp_path, text) == f"segment_names.json: {message}"


def test_every_fault_of_the_names_file_is_listed_at_once(tmp_path):
    assert names_error(tmp_path, '{"three": "a", "4": "", "5": "VIP", "6": "vip", "7": "VIP"}') == (
        "segment_names.json: 3 problems\n"
        f"segment_names.json: key 'three' {ID_HINT}\n"
        "segment_names.json: the name of segment 4 is empty\n"
        "segment_names.json: the name 'VIP' is used for segments 5, 6 and 7"
    )


def test_huge_or_broken_names_files_give_short_messages(tmp_path):
    assert names_error(tmp_path, '{"3": ' + "9" * 5000 + "}") == (
        f"segment_names.json: the name of segment 3 must be text in quotes, found the number {'9' * 56}… (4920 more "
        "characters)"
    )
    assert names_error(tmp_path, '{"' + "9" * 5000 + '": "a"}') == (
        f"segment_names.json: key '{'9' * 55}… (4922 more characters) {ID_HINT}"
    )
    assert (
        names_error(tmp_path, "[" * 100_000 + "]" * 100_000) == "segment_names.json: not valid JSON: nested too deeply"
    )
    assert names_error(tmp_path, '{"3": NaN}') == (
        "segment_names.json: the name of segment 3 must be text in quotes, found the number NaN"
    )


def test_a_missing_configured_or_undecodable_file(tmp_path):
    with pytest.raises(PipelineError, match=r"absent\.json: file not found$"):
        MarketerFiles(segment_names_file=str(tmp_path / "absent.json")).name_overrides(DataLayout(tmp_path))
    (tmp_path / "latin1.json").write_bytes('{"3": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(PipelineError, match=r"latin1\.json: not UTF-8 text \(byte 10\)$"):
        read_name_overrides(tmp_path / "latin1.json")


def test_without_a_names_file_there_are_no_overrides(tmp_path):
    assert MarketerFiles().name_overrides(DataLayout(tmp_path)) == {}


def test_overrides_win_ids_the_model_lacks_are_reported_and_names_stay_unique():
    generated = {1: "Lapsed customers", 2: "Mobile customers", 3: "Frequent customers"}
    names, warnings = apply_name_overrides(generated, {3: "mobile customers", 8: "Ghosts", 9: "Gone"}, "n.json", "v1")
    assert names == {1: "Lapsed customers", 2: "Mobile customers (2)", 3: "mobile customers"}
    assert warnings == [
        "n.json: model v1 has no segment 8 and 9; their names are not used",
        "n.json: segment 2's generated name 'Mobile customers' is the name given to another segment; segment 2 is "
        "published as 'Mobile customers (2)'",
    ]
    assert apply_name_overrides(generated, {}, "n.json", "v1") == (generated, [])


def published_names(layout: DataLayout, day: date) -> tuple[dict[str, str], dict[int, str]]:
    """The segment name of each planted group in `segment_assignments`, and each segment's in `segment_profiles`."""
    assignments = read_snapshot_table(layout, "segment_assignments", day)
    groups = assignments["customer_id"].str.split("-").str[0]
    profiles = read_snapshot_table(layout, "segment_profiles", day)
    by_group = assignments.groupby(groups)["segment_name"].agg(lambda names: "|".join(sorted(set(names))))
    return by_group.to_dict(), dict(zip(profiles["segment_id"], profiles["segment_name"], strict=True))


def test_names_file_edits_apply_at_the_next_scoring_without_a_refit(tmp_path, three_groups, fast_settings):
    layout, day = DataLayout(tmp_path), date(2026, 5, 10)
    write_snapshot_table(layout, "customer_features", day, three_groups)
    fitted = fit_model(three_groups, "2026-03-31", fast_settings)
    save_model(fitted, layout.model_folder(date(2026, 4, 1)), NoValueModel("not needed here"))
    model = quarter_model(layout, day)
    version, generated, card = model.version, dict(model.names), model.card()
    files = MarketerFiles()

    assert assign_segments(layout, day, model, files)[1] == []
    by_group, by_id = published_names(layout, day)
    assert by_group == {"lapsed": generated[1], "browsers": generated[2], "spenders": generated[3]}
    assert by_id == generated

    path = names_file(tmp_path, '{"3": "VIP loyalists", "9": "Ghosts"}')
    profiles, warnings = assign_segments(layout, day, model, files)
    assert warnings == [f"{path}: model {version} has no segment 9; its name is not used"]
    by_group, by_id = published_names(layout, day)
    assert by_group == {"lapsed": generated[1], "browsers": generated[2], "spenders": "VIP loyalists"}
    assert by_id == {**generated, 3: "VIP loyalists"}
    assert profiles.set_index("segment_id").loc[3, "segment_name"] == "VIP loyalists"

    names_file(tmp_path, '{"3": "Big spenders", "1": "Gone quiet"}')
    assign_segments(layout, day, model, files)
    assert published_names(layout, day)[1] == {1: "Gone quiet", 2: generated[2], 3: "Big spenders"}

    path.unlink()
    assign_segments(layout, day, model, files)
    assert published_names(layout, day)[1] == generated
    assert (model.version, model.names, model.card()) == (version, generated, card)
    assert quarter_model(layout, day).card() == card
    assert pd.Index(read_snapshot_table(layout, "segment_assignments", day)["model_version"]).unique().tolist() == [
        version
    ]


def test_a_bad_names_file_stops_the_scoring_with_its_message(tmp_path, three_groups, fast_settings):
    layout, day = DataLayout(tmp_path), date(2026, 5, 10)
    write_snapshot_table(layout, "customer_features", day, three_groups)
    model = fit_model(three_groups, "2026-03-31", fast_settings)
    path = names_file(tmp_path, '{"three": "VIP"}')
    with pytest.raises(PipelineError) as info:
        assign_segments(layout, day, model, MarketerFiles())
    assert str(info.value) == f"{path}: key 'three' {ID_HINT}"
