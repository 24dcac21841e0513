"""An empty CRM export stops `segmentation-pipeline run` with one clear line, before anything downstream runs."""

from datetime import date

from segmentation_pipeline.cli import main
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.sample_data import generate_landing_zone


def test_a_header_only_crm_export_stops_the_run_with_the_file_and_the_counts(tmp_path, monkeypatch, capsys):
    generate_landing_zone(tmp_path, customers=50, days=3, seed=3, end_date=date(2026, 6, 30))
    monkeypatch.setenv("DAGSTER_HOME", "")  # unset: the instance lives under the data root
    layout = DataLayout(tmp_path)
    export = layout.landing / "crm" / "customers.csv"
    export.write_text(export.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")

    assert main(["run", "--data-dir", str(tmp_path)]) == 1

    error = capsys.readouterr().err
    assert error == (
        "error: crm/customers.csv: the CRM export has no valid customers (0 rows; 0 clean, 0 quarantined); "
        "nothing was validated or published\n"
    )
    assert not layout.validated("customers", None).exists()
    assert not layout.validated_files("orders")
    assert not layout.published.exists()
