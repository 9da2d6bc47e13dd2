"""Who sees what: agents their own desktop, supervisors the console and every desktop
read-only, admins the admin page; and the JSON API called with the session cookie needs the
page's CSRF token, while token-authenticated calls do not."""

from __future__ import annotations


def test_nobody_signed_in_is_sent_to_sign_in(client):
    for page in ("/desktop", "/console", "/console/recordings", "/admin", "/desktop/1"):
        answer = client.get(page)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/signin?next=")
    assert client.get("/console/events").status_code == 401


def test_an_agent_cannot_open_the_supervisor_console_or_the_admin_page(signed_in, people):
    ann = signed_in("ann")
    for page in ("/console", "/console/recordings", "/console/scoring", "/console/kpis",
                 "/admin"):
        answer = ann.get(page)
        assert answer.status_code == 403, page
        assert "you are signed in as ann (agent)" in answer.get_data(as_text=True)
    other = ann.get(f"/desktop/{people['ben']['agent_id']}")
    assert other.status_code == 403
    assert "only their own desktop" in other.get_data(as_text=True)
    assert ann.get("/console/events?view=wallboard").status_code == 403
    assert ann.get(f"/console/events?view=desktop&agent={people['ben']['agent_id']}").status_code \
        == 403


def test_a_supervisor_opens_any_agent_desktop_read_only(signed_in, people):
    sue = signed_in("sue")
    page = sue.get(f"/desktop/{people['ann']['agent_id']}").get_data(as_text=True)
    assert 'id="read-only"' in page and '"readOnly": true' in page
    assert sue.get("/desktop").status_code == 403  # a supervisor is not an agent
    assert sue.get("/admin").status_code == 403


def test_an_admin_opens_the_admin_page_and_the_console(signed_in):
    ada = signed_in("ada")
    assert ada.get("/admin").status_code == 200
    assert ada.get("/console").status_code == 200


def test_the_api_with_the_session_cookie_needs_the_csrf_header(signed_in, people):
    ann = signed_in("ann")
    url = f"/api/agents/{people['ann']['agent_id']}/state"
    refused = ann.put(url, json={"state": "available"})
    assert refused.status_code == 400
    assert "X-CSRFToken" in refused.get_json()["reason"]
    accepted = ann.put(url, json={"state": "available"}, headers={"X-CSRFToken": ann.csrf})
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "available"
    assert ann.get("/api/me").get_json()["username"] == "ann"  # reading needs no token


def test_a_token_from_another_session_is_refused(signed_in, people):
    ann, ben = signed_in("ann"), signed_in("ben")
    url = f"/api/agents/{people['ann']['agent_id']}/state"
    answer = ann.put(url, json={"state": "available"}, headers={"X-CSRFToken": ben.csrf})
    assert answer.status_code == 400


def test_token_authenticated_calls_need_no_csrf_token(client, people):
    answer = client.put(f"/api/agents/{people['ann']['agent_id']}/state",
                        json={"state": "available"},
                        headers={"Authorization": f"Bearer {people['ann']['token']}"})
    assert answer.status_code == 200


def test_an_unauthenticated_api_call_still_gets_401_not_a_csrf_error(client, people):
    answer = client.put(f"/api/agents/{people['ann']['agent_id']}/state",
                        json={"state": "available"})
    assert answer.status_code == 401
