"""Which browser pages may open a console websocket: Nova's proxies' Origin check."""

from onestack.services.compute.api.console_proxy import origin_allowed


def test_a_client_that_is_no_browser_sends_no_origin_and_is_let_through():
    assert origin_allowed(None, "cloud.example:8080", [])


def test_a_page_of_the_host_asked_may_open_a_console_whatever_its_port():
    assert origin_allowed("http://cloud.example:8080", "cloud.example:8080", [])
    assert origin_allowed("https://cloud.example", "cloud.example:8080", [])
    assert origin_allowed("http://[2001:db8::1]:8080", "[2001:db8::1]:8080", [])


def test_a_page_of_another_site_may_not_unless_its_host_is_allowed():
    assert not origin_allowed("http://attacker.example", "cloud.example:8080", [])
    assert origin_allowed("http://dashboard.example", "cloud.example:8080", ["dashboard.example"])
    assert not origin_allowed("http://cloud.example.attacker.example", "cloud.example", [])


def test_an_origin_that_is_no_web_page_is_refused():
    assert not origin_allowed("null", "cloud.example", [])
    assert not origin_allowed("file:///tmp/page.html", "cloud.example", [])
