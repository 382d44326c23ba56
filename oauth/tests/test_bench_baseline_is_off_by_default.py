from django.conf import settings


def test_the_bench_baseline_view_is_not_served(client, db):
    assert settings.BENCH_BASELINE is False
    assert client.post("/bench/baseline").status_code == 404
