"""The global control group: its size, and that membership depends on nothing but the customer id and the salt."""

import hashlib

import pandas as pd
import pytest

from segmentation_pipeline.core.publish.control_group import in_control_group
from segmentation_pipeline.core.publish.settings import DEFAULT_CONTROL_GROUP_SALT, PublishSettings, SettingsError
from segmentation_pipeline.defs.publish.resources import PublishingResource

IDS = pd.Series([f"C{number:07d}" for number in range(100_000)])


def test_the_share_of_100k_customers_in_the_control_group_is_the_setting():
    for share in (0.05, 0.2):
        assert abs(in_control_group(IDS, share, DEFAULT_CONTROL_GROUP_SALT).mean() - share) < 0.003
    assert not in_control_group(IDS, 0.0, DEFAULT_CONTROL_GROUP_SALT).any()


def test_membership_is_the_first_8_bytes_of_the_salted_sha256_below_share_times_2_to_the_64():
    draw = int.from_bytes(hashlib.sha256(b"pepper:C0000007").digest()[:8], "big")
    share = draw / 2**64
    ids = pd.Series(["C0000007"])
    assert in_control_group(ids, share + 1e-12, "pepper").tolist() == [True]
    assert in_control_group(ids, share - 1e-12, "pepper").tolist() == [False]


def test_membership_depends_only_on_id_and_salt_whatever_the_snapshot_order_or_population():
    everyone = in_control_group(IDS, 0.05, "s").set_axis(IDS)
    later = IDS.sample(frac=0.5, random_state=1)  # another snapshot: fewer customers, another order and index
    assert in_control_group(later.reset_index(drop=True), 0.05, "s").tolist() == everyone[later].tolist()
    other_salt = in_control_group(IDS, 0.05, "t").set_axis(IDS)
    assert (other_salt != everyone).sum() > 8_000  # a new salt draws a new group (two 5% groups overlap by ~5%)


def test_a_share_outside_0_to_1_is_refused_naming_the_setting():
    for share in (-0.1, 1.0, 1.5):
        with pytest.raises(SettingsError, match=rf"^publishing setting control_group_share must be .* got {share}$"):
            PublishSettings(control_group_share=share)
    with pytest.raises(SettingsError, match="control_group_share"):
        PublishingResource(control_group_share=2.0).settings()


def test_membership_is_hashlibs_for_any_characters_in_the_ids_and_the_salt():
    ids = pd.Series(
        ["C0000007", "Zoë Ångström", "客户-42", "O'Brien", 'say "hi"', "", "x' OR '1'='1"], index=range(7, 0, -1)
    )
    salt = "pe'pper\"; DROP TABLE t; --"  # a parameter of the query, never part of its text
    draws = [int.from_bytes(hashlib.sha256(f"{salt}:{value}".encode()).digest()[:8], "big") for value in ids]
    share = (sorted(draws)[2] + sorted(draws)[3]) / 2 / 2**64  # between the third and fourth smallest draws
    members = in_control_group(ids, share, salt)
    assert members.to_dict() == {index: draw < share * 2**64 for index, draw in zip(ids.index, draws, strict=True)}
    assert members.sum() == 3
