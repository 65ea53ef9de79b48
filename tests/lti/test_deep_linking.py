"""Deep Linking 2.0 end to end through the sandbox LMS: an advisor's deep-linking launch,
the tool's form, the signed LtiDeepLinkingResponse posted back to the sandbox, which
verifies it against the tool's published keys, and the refusals on the way."""

from __future__ import annotations

import re
from html import unescape

import jwt
import pytest
import sqlalchemy as sa

from lti.keys import generate_rsa_pem
from lti.sandbox import platform as sandbox
from lti.sandbox.links import SandboxResourceLink
from lti.sandbox.models import SandboxLineItem
from portfolio.db import db
from tests.journal.helpers import csrf_token
from tests.platform import LIS, REMOVE

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS = DL + "deep_linking_settings"


def follow_sandbox_launch(client, page_url: str):
    """What the browser does inside the sandbox's frame; return the tool's answer."""
    page = client.get(page_url)
    assert page.status_code == 200, page.get_data(as_text=True)
    login_url = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', page.get_data(as_text=True)).group(1))
    to_platform = client.get(login_url)
    if "lti_storage_target" in login_url:  # platform storage offered: the page stores the value, then goes on
        assert to_platform.status_code == 200, to_platform.get_data(as_text=True)
        onward = unescape(re.search(r'data-continue-url="([^"]+)"', to_platform.get_data(as_text=True)).group(1))
    else:
        assert to_platform.status_code == 302, to_platform.get_data(as_text=True)
        onward = to_platform.headers["Location"]
    form_post = client.get(onward)
    assert form_post.status_code == 200, form_post.get_data(as_text=True)
    html = form_post.get_data(as_text=True)
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', html).group(1))
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', html)}
    return client.post(action, data=fields)


def deep_link_launch(client, shape: str, person: str):
    return follow_sandbox_launch(client, f"/sandbox/launch/{shape}/{person}?message_type=LtiDeepLinkingRequest")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert found, f"no field {name}"
    return unescape(found.group(1))


def submit_form(client, page: str, **fields):
    data = {"csrf_token": csrf_token(page), "link": hidden(page, "link"), "title": "Internship portfolio",
            "points": "100", "text": ""}
    data.update(fields)
    return client.post("/lti/deep-link", data=data)


def response_form(page: str) -> tuple[str, str]:
    action = unescape(re.search(r'<form method="post" action="([^"]+)" id="deep-link-response"', page).group(1))
    return action, hidden(page, "JWT")


def verify_with_tool_keys(client, token: str, audience: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in client.get("/lti/jwks").get_json()["keys"] if k["kid"] == kid)
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=audience)


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_an_advisor_places_the_portfolio_and_the_lms_verifies_it(app, client, shape):
    form_page = deep_link_launch(client, shape, "helen")
    assert form_page.status_code == 200, form_page.get_data(as_text=True)
    page = form_page.get_data(as_text=True)
    assert 'value="Internship portfolio"' in page and 'value="100"' in page
    assert "deep_link_return_url" not in page and "sandbox/" + shape + "/deep-link-return" not in page

    answer = submit_form(client, page, title="Portfolio 2026", points="80", text="Weekly journal, graded at the end")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    html = answer.get_data(as_text=True)
    assert "js/deep_link.js" in html and '<button type="submit"' in html  # auto-posted, with a no-JS button
    action, token = response_form(html)
    assert action == app.config["BASE_URL"] + f"/sandbox/{shape}/deep-link-return"

    claims = verify_with_tool_keys(client, token, audience=app.config["BASE_URL"] + f"/sandbox/{shape}")
    assert claims["iss"] == sandbox.CLIENT_IDS[shape]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/version"] == "1.3.0"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == sandbox.DEPLOYMENT_IDS[shape]
    assert claims["nonce"] and claims["exp"] > claims["iat"]
    assert isinstance(claims[DL + "data"], str) and claims[DL + "data"].count(".") == 2  # the sandbox's, echoed
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == app.config["BASE_URL"] + "/lti/launch"
    assert (item["title"], item["text"]) == ("Portfolio 2026", "Weekly journal, graded at the end")
    assert item["lineItem"] == {"scoreMaximum": 80, "label": "Portfolio 2026", "resourceId": "portfolio",
                                "tag": "portfolio-grade"}

    received = client.post(action, data={"JWT": token})
    assert received.status_code == 200, received.get_data(as_text=True)
    assert "Activity added to the course" in received.get_data(as_text=True)
    with app.app_context():
        link = db.session.scalar(sa.select(SandboxResourceLink))
        assert (link.shape, link.title, link.url) == (shape, "Portfolio 2026", app.config["BASE_URL"] + "/lti/launch")
        column = db.session.scalar(sa.select(SandboxLineItem))
        assert (column.score_maximum, column.label, column.tag) == (80, "Portfolio 2026", "portfolio-grade")
        assert column.resource_link_id == f"dl-{link.id}"

    replayed = client.post(action, data={"JWT": token})
    assert replayed.status_code == 400 and "already received" in replayed.get_data(as_text=True)
    again = submit_form(client, page)
    assert again.status_code == 400 and "expired or was already sent" in again.get_data(as_text=True)


def test_an_intern_cannot_place_the_portfolio(client):
    response = deep_link_launch(client, "moodle", "amara")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Only teachers can add the portfolio" in page and 'name="link"' not in page


def test_the_form_keeps_what_was_typed_and_needs_csrf(client):
    page = deep_link_launch(client, "canvas", "tomas").get_data(as_text=True)
    invalid = submit_form(client, page, title="My portfolio activity", points="-5")
    assert invalid.status_code == 422
    html = invalid.get_data(as_text=True)
    assert "Enter a positive number of points" in html and 'value="My portfolio activity"' in html
    assert "deep-link-response" not in html
    for nonsense in ("NaN", "Infinity", "ten"):
        assert submit_form(client, page, points=nonsense).status_code == 422
    no_csrf = client.post("/lti/deep-link", data={"link": hidden(page, "link"), "title": "x", "points": "10"})
    assert no_csrf.status_code == 400
    still_valid = submit_form(client, page, points="12.5")
    assert still_valid.status_code == 200
    _action, token = response_form(still_valid.get_data(as_text=True))
    item = jwt.decode(token, options={"verify_signature": False})[DL + "content_items"][0]
    assert item["lineItem"]["scoreMaximum"] == 12.5


def test_a_form_id_from_another_browser_is_refused(client, make_client):
    page = deep_link_launch(client, "moodle", "helen").get_data(as_text=True)
    other = make_client()
    other_page = deep_link_launch(other, "moodle", "tomas").get_data(as_text=True)
    # The other browser's own CSRF token, but this browser's form id: its session holds no such set-up.
    response = other.post("/lti/deep-link", data={"csrf_token": csrf_token(other_page), "link": hidden(page, "link"),
                                                  "title": "x", "points": "10"})
    assert response.status_code == 400


def test_the_sandbox_refuses_a_response_signed_with_another_key(app, client):
    page = deep_link_launch(client, "moodle", "helen").get_data(as_text=True)
    action, token = response_form(submit_form(client, page).get_data(as_text=True))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, generate_rsa_pem(), algorithm="RS256", headers={"kid": header["kid"]})
    response = client.post(action, data={"JWT": forged})
    assert response.status_code == 400 and "does not verify" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SandboxResourceLink.id))) == 0


INSTRUCTOR = [LIS + "membership#Instructor"]


def good_settings(lms_issuer: str) -> dict:
    return {"deep_link_return_url": lms_issuer + "/deep-link-return", "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"], "data": "opaque"}


@pytest.mark.parametrize(("settings", "says"), [
    (REMOVE, "no deep_linking_settings claim"),
    ({"accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"]},
     "no deep_link_return_url"),
    ({"deep_link_return_url": "javascript:alert(1)", "accept_types": ["ltiResourceLink"],
      "accept_presentation_document_targets": ["iframe"]}, "not an http(s) URL"),
    ({"deep_link_return_url": "https://lms.test.example/return", "accept_types": ["file", "html"],
      "accept_presentation_document_targets": ["iframe"]}, "can only be added as an LTI resource link"),
])
def test_bad_deep_linking_launches_say_what_is_wrong(client, lms, settings, says):
    overrides = {"message_type": "LtiDeepLinkingRequest", "resource_link": REMOVE, "roles": INSTRUCTOR, SETTINGS: settings}
    response = lms.launch(client, **overrides)
    assert response.status_code == 400
    assert says in unescape(response.get_data(as_text=True))


def test_a_deep_linking_launch_from_a_test_platform_echoes_its_data(client, lms):
    overrides = {"message_type": "LtiDeepLinkingRequest", "resource_link": REMOVE, "roles": INSTRUCTOR,
                 SETTINGS: dict(good_settings(lms.issuer), accept_lineitem=False)}
    page = lms.launch(client, **overrides).get_data(as_text=True)
    action, token = response_form(submit_form(client, page).get_data(as_text=True))
    assert action == lms.issuer + "/deep-link-return"
    claims = verify_with_tool_keys(client, token, audience=lms.issuer)
    assert claims["iss"] == lms.client_id and claims[DL + "data"] == "opaque"
    assert "lineItem" not in claims[DL + "content_items"][0]  # the platform said it takes no line items
