"""The route table (scopes/routes.py): every operation of the shipped file, matched exactly on
the raw path, with no way to reach one route through another's prefix."""

import json

import pytest

from scopes.routes import ROUTES_PATH, route_table, split_path


def test_it_loads_all_650_operations():
    table = route_table()
    assert len(table) == 650
    operations = json.loads(ROUTES_PATH.read_text())["operations"]
    assert {(route.method, route.path) for route in table.routes} == {(op["method"], op["path"]) for op in operations}
    assert sum(route.has_tenant for route in table.routes) == 624


def test_every_operation_matches_its_own_example_path():
    table = route_table()
    for route in table.routes:
        filled = route.example_path("demo").replace("{", "x").replace("}", "x")
        match = table.match(route.method, filled)
        assert match is not None, route.path
        # A more literal template of the same shape may take it, never a less literal one.
        assert sum(s is not None for s in match.route.segments) >= sum(s is not None for s in route.segments)
        if match.route is route and route.has_tenant:
            assert match.tenant == "demo"


def test_tenant_and_other_parameters_take_one_whole_segment():
    table = route_table()
    match = table.match("GET", "/price/demo/price-lists/PL-1/prices/P-7")
    assert match.route.path == "/price/{tenant}/price-lists/{priceListId}/prices/{priceId}"
    assert match.values == {"tenant": "demo", "priceListId": "PL-1", "priceId": "P-7"}
    assert table.match("GET", "/price/demo/price-lists/PL-1/prices/P-7/x") is None
    assert table.match("GET", "/price/demo/price-lists//prices/P-7") is None
    assert table.match("GET", "/price/demo") is None


def test_the_query_string_is_not_part_of_the_path():
    match = route_table().match("GET", "/customer/demo/customers?q=/price/demo/prices")
    assert match.route.path == "/customer/{tenant}/customers"


@pytest.mark.parametrize(
    "path",
    [
        "/price/demo/prices/../../other/prices",
        "/price/demo/prices/..",
        "/price/demo/./prices",
        "/price/demo%2Fprices",
        "/price/demo%2fprices/P1",
        "/price/demo/prices%5CP1",
        "/price/demo/prices\\P1",
        "/price/demo/prices/",
        "/price//demo/prices",
        "price/demo/prices",
        "",
    ],
)
def test_dot_segments_encoded_separators_and_empty_segments_never_match(path):
    assert split_path(path) is None
    assert route_table().match("GET", path) is None


@pytest.mark.parametrize("path", ["/Price/demo/prices", "/price/demo/Prices", "/PRICE/DEMO/PRICES/P1"])
def test_literal_segments_match_case_included(path):
    assert route_table().match("GET", path) is None


def test_a_longer_path_is_not_matched_by_its_prefix():
    table = route_table()
    assert table.match("GET", "/customer/demo/customers").route.path == "/customer/{tenant}/customers"
    assert table.match("GET", "/customer/demo/customersX") is None
    assert table.match("GET", "/customer/demo/customers/C1/addresses/A1/unknown") is None


def test_the_most_literal_template_wins():
    table = route_table()
    assert table.match("GET", "/iam/demo/users/me").route.path == "/iam/{tenant}/users/me"
    assert table.match("GET", "/iam/demo/users/u-1").route.path == "/iam/{tenant}/users/{userId}"
    assert table.match("PUT", "/tax/demo/taxes/calculation-commands").route.path == (
        "/tax/{tenant}/taxes/calculation-commands"
    )
    assert table.match("PUT", "/tax/demo/taxes/DE").route.path == "/tax/{tenant}/taxes/{locationCode}"


def test_the_method_is_part_of_the_route():
    table = route_table()
    assert table.match("GET", "/customer/demo/customers").route.any_of_scopes == (
        "customer.customer_read",
        "customer.customer_read_own",
    )
    assert table.match("POST", "/customer/demo/customers").route.any_of_scopes == (
        "customer.customer_manage",
        "customer.customer_manage_own",
    )
    assert table.match("TRACE", "/customer/demo/customers") is None
