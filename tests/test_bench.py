"""The benchmark's pieces (bench/load.py, bench/suite.py) without running wrk, gunicorn or
the benchmarks themselves."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from bench import load, suite
from tests.factories import CustomerFactory


def test_users_follow_the_role_shares_and_reuse_a_role_with_few_users():
    chosen = load.choose_users(
        {
            "account_manager": ["am1", "am2"],
            "department_head": ["head"],
            "finance": [],
            "executive": ["gm"],
        },
        50,
    )
    assert len(chosen) == 50
    roles = [role for role, _name in chosen]
    assert "finance" not in roles  # no finance user: its share goes to the others
    assert roles.count("department_head") == 6 and roles.count("executive") == 2
    managers = [name for role, name in chosen if role == "account_manager"]
    assert managers[:4] == ["am1", "am2", "am1", "am2"]


def test_users_are_distinct_when_there_are_enough():
    many = {role: [f"{role}{n}" for n in range(100)] for role in load.ROLE_SHARES}
    chosen = load.choose_users(many, 50)
    assert len({name for _role, name in chosen}) == 50
    assert [role for role, _name in chosen].count("account_manager") == 40


def test_choosing_users_without_any_role_is_refused():
    with pytest.raises(ValueError, match="no user holds any of the roles"):
        load.choose_users({"account_manager": []}, 50)


def test_page_mix_covers_the_pages_people_use():
    mix = load.page_mix("account_manager", [7, 8, 9])
    paths = [path for _label, path in mix]
    assert paths.count("/") == 2
    assert {"/customers/7/", "/customers/8/", "/customers/9/"} <= set(paths)
    for path in ("/customers/?page=2", "/notifications/", "/complaints/", "/contracts/"):
        assert path in paths
    assert "/reports/visits/" in paths
    assert "/reports/tiers/" in [path for _label, path in load.page_mix("executive", [])]


def test_lua_script_gives_each_thread_its_own_session_and_pages():
    users = [
        load.SimulatedUser("am1", "account_manager", "key-one", [("home page", "/")], "csrf-one"),
        load.SimulatedUser(
            "gm", "executive", "key-two", [("report", "/reports/tiers/")], "csrf-two"
        ),
    ]
    script = load.lua_script(users, "sessionid", {"X-Forwarded-Proto": "https"})
    entries = re.findall(r'\{cookie = "([^"]+)", paths = \{([^}]*)\}\}', script)
    # Each user keeps the CSRF cookie a browser would: cached pages are served only with it.
    assert entries == [
        ("sessionid=key-one; csrftoken=csrf-one", '"/"'),
        ("sessionid=key-two; csrftoken=csrf-two", '"/reports/tiers/"'),
    ]
    assert '["X-Forwarded-Proto"] = "https"' in script
    for function in ("setup(thread)", "init(args)", "request()", "response(", "done("):
        assert f"function {function}" in script
    assert "latency:percentile(95)" in script and load.RESULT_MARK in script


def test_lua_strings_must_be_ascii():
    with pytest.raises(ValueError):
        load.lua_string("/customers/?q=远航")


def test_wrk_result_line_is_parsed():
    output = (
        "Running 1m test @ http://127.0.0.1:8000\n"
        f'{load.RESULT_MARK}{{"requests": 12000, "duration_us": 60000000, "bytes": 1, '
        '"non2xx": 3, "connect": 0, "read": 1, "write": 0, "timeout": 2, "p50_us": 100000, '
        '"p95_us": 400000, "p99_us": 600000, "max_us": 900000, "mean_us": 120000}\n'
    )
    result = load.parse_wrk_result(output)
    assert result["rps"] == 200
    assert result["socket_errors"] == 3 and result["non2xx"] == 3
    with pytest.raises(RuntimeError, match="no result"):
        load.parse_wrk_result("wrk: connection refused")


def test_server_times_come_from_the_access_log_per_page():
    log = "\n".join(
        [
            "/\t\t200\t100000",
            "/\t\t200\t300000",
            "/customers/\tpage=2\t200\t50000",
            "/customers/\tpage=2\t500\t70000",
            "a line from elsewhere",
        ]
    )
    rows = load.server_times(log, {"/": "home page", "/customers/?page=2": "list, page 2"})
    assert rows == [("home page", 2, 200.0, 300.0, 0), ("list, page 2", 2, 60.0, 70.0, 1)]


def test_database_url_gets_an_application_name():
    assert (
        load.with_application_name("postgres://h/db", "x") == "postgres://h/db?application_name=x"
    )
    assert load.with_application_name("postgres://h/db?a=1", "x").endswith(
        "?a=1&application_name=x"
    )


@pytest.mark.django_db
def test_sessions_sign_the_users_in_without_a_log_in(manager, executive):
    customer = CustomerFactory(primary_manager=manager, department=manager.department)
    users = [
        load.SimulatedUser("am_east1", "account_manager"),
        load.SimulatedUser("am_east1", "account_manager"),
        load.SimulatedUser("gm", "executive"),
    ]
    load.create_sessions(users)
    assert len({user.session_key for user in users}) == 3
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = users[0].session_key
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    assert response.wsgi_request.user == manager

    load.delete_sessions(users)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = users[0].session_key
    assert client.get(f"/customers/{customer.pk}/").status_code == 302  # to the log-in page


@pytest.mark.django_db
def test_simulated_users_get_pages_of_customers_they_may_see(manager, head, executive):
    own = CustomerFactory.create_batch(4, primary_manager=manager, department=manager.department)
    users = load.simulated_users(10)
    assert len(users) == 10
    manager_users = [user for user in users if user.role == "account_manager"]
    first_details = [p for label, p in manager_users[0].paths if label == "customer detail"]
    second_details = [p for label, p in manager_users[1].paths if label == "customer detail"]
    assert first_details == [f"/customers/{c.pk}/" for c in own[:3]]
    assert second_details == [f"/customers/{own[3].pk}/"]  # the same user again: next customers


def test_suite_runs_the_load_test_on_postgresql_only():
    sqlite = {section.name: section for section in suite.sections("sqlite", False, 100_000)}
    postgresql = {section.name: section for section in suite.sections("postgresql", False, 100_000)}
    assert "load" not in sqlite
    assert list(postgresql) == suite.SECTIONS
    assert postgresql["load"].database_url == postgresql["pages"].database_url
    assert postgresql["pages"].database_url.endswith("/crm_bench_make")
    assert sqlite["pages"].database_url.endswith("/var/bench/bench.sqlite3")


def test_suite_gives_each_job_and_size_its_own_scratch_database():
    full = {section.name: section for section in suite.sections("postgresql", False, 100_000)}
    quick = {section.name: section for section in suite.sections("postgresql", True, 2_000)}
    urls = {section.database_url for section in full.values() if section.name != "load"}
    assert len(urls) == 4  # pages and dashboard share one, each job has its own
    assert quick["pages"].database_url.endswith("/crm_bench_make_2000")
    assert quick["regrade"].database_url.endswith("/crm_bench_make_tiers_10000")
    assert "--customers=10000" in quick["reminders"].command
    assert quick["excel"].env["BENCH_EXPORT_CUSTOMERS"] == "10000"
    assert full["regrade"].command[-3:-1] == ["--customers=100000", "--transactions=2000000"]


def test_restricting_the_mix_keeps_the_users_and_their_sessions():
    users = [
        load.SimulatedUser("am1", "account_manager", "k1", load.page_mix("account_manager", [])),
        load.SimulatedUser("gm", "executive", "k2", load.page_mix("executive", [3])),
    ]
    details = load.restrict(users, ["customer detail"])
    assert [user.paths for user in details] == [[], [("customer detail", "/customers/3/")]]
    assert [user.session_key for user in details] == ["k1", "k2"]
    assert users[0].paths  # the originals are left alone
    script = load.lua_script(details, "sessionid", {})
    assert "k1" not in script and "sessionid=k2" in script  # a user without pages sits out


def test_a_reused_postgresql_page_database_is_vacuumed_a_new_one_seeded(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(suite, "VAR", tmp_path)
    monkeypatch.setattr(suite, "create_postgres_database", lambda url, fresh: True)
    monkeypatch.setattr(suite, "manage", lambda url, *args: calls.append(args[0]))
    monkeypatch.setattr(suite, "vacuum_analyze", lambda url: calls.append("vacuum"))
    url = "postgres://postgres@127.0.0.1:5432/crm_bench_make"
    suite.ensure_page_database("postgresql", url, 1000)
    assert calls == ["migrate", "seed_demo"]  # seed_demo vacuums itself
    calls.clear()
    suite.ensure_page_database("postgresql", url, 1000)
    assert calls == ["migrate", "vacuum"]
