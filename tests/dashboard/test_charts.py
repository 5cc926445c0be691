"""Pure pieces: the SVG charts and the arithmetic of the reports (no database)."""

from datetime import date
from decimal import Decimal as D

from dashboard import charts, reports


def test_charts_escape_every_label():
    svg = charts.bar_chart([("<b>&x", 3)], title="T <script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;&amp;x" in svg
    svg = charts.heat_map(["A"], ['"B'], [[2]], title="m", links=[['/x?a=1&b="2"']])
    assert 'href="/x?a=1&amp;b=&quot;2&quot;"' in svg and "&quot;B" in svg


def test_every_mark_has_an_accessible_title():
    svg = charts.stacked_bar_chart(["Q1", "Q2"], [("A", [1, 2]), ("B", [0, 4])], title="Rev")
    assert svg.count("<rect") - svg.count("<title>") <= 2  # legend swatches carry no title
    assert 'role="img"' in svg and "<title id=" in svg
    assert "Q2 · B: 4" in svg
    line = charts.line_chart(["Q1", "Q2"], [("Revenue", [D("1.5"), 3])], title="L")
    assert line.count("<circle") == 2 and "Q1 · Revenue: 1.5" in line


def test_a_zero_cell_of_the_heat_map_is_not_a_link():
    svg = charts.heat_map(
        ["A", "B"], ["A", "B"], [[0, 1], [2, 0]], title="m", links=[["/0", "/1"], ["/2", "/3"]]
    )
    assert 'href="/1"' in svg and 'href="/2"' in svg
    assert 'href="/0"' not in svg and 'href="/3"' not in svg


def test_empty_charts_draw():
    assert "<svg" in charts.bar_chart([], title="none")
    assert "<svg" in charts.stacked_bar_chart([], [], title="none")


def test_rate_and_change():
    assert reports.rate(2, 3) == D("66.7")
    assert reports.rate(0, 0) is None
    assert reports.change(130, 100) == D("0.3")
    assert reports.change(5, 0) is None


def test_quarters_and_months_between():
    assert reports.quarters_between(date(2025, 11, 3), date(2026, 4, 1)) == [
        "2025Q4",
        "2026Q1",
        "2026Q2",
    ]
    assert reports.months_between(date(2025, 12, 31), date(2026, 2, 1)) == [
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]


def test_risk_reasons_thresholds():
    assert reports.risk_reasons(last=D(131), previous=D(100))
    assert not reports.risk_reasons(last=D(130), previous=D(100))
    assert not reports.risk_reasons(last=D(80), previous=D(100))
    assert reports.risk_reasons(last=D(79), previous=D(100))
    assert not reports.risk_reasons(last=D(50), previous=D(0))
    assert reports.risk_reasons(last=0, previous=0, dropped_from="A", dropped_to="C") == [
        "Tier dropped from A to C"
    ]
    assert not reports.risk_reasons(last=0, previous=0, dropped_from="C", dropped_to="A")
    assert len(reports.risk_reasons(last=D(10), previous=D(100), overdue_and_complaint=True)) == 2
