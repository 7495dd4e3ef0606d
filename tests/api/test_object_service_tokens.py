"""Swift service tokens (keystoneauth's ``SERVICE_`` reseller prefix with ``service_roles = service``): an
account ``SERVICE_<project>`` is reached only with the project user's token together with an
``X-Service-Token`` that holds the ``service`` role; either token alone is refused."""

import pytest
import swiftclient

from tests.api.helpers import grant, make_user, member_of_new_project, name
from tests.api.object_helpers import client


@pytest.fixture
def service_token(cloud, admin) -> str:
    """A token of a user holding the ``service`` role (in a project of its own, as a cloud's services are)."""
    project, user, _ = member_of_new_project(cloud, admin, "reader")
    grant(admin, project["id"], user["id"], "service")
    return cloud.token(user["name"], "secret-pass-1", project["name"])


def test_service_account_needs_both_tokens(cloud, admin, swift, service_token):
    account = f"SERVICE_{swift.project['id']}"
    user_alone = client(cloud, account, swift.token)
    assert user_alone.put("/kept").status_code == 403
    assert user_alone.get("").status_code == 403
    both = {"X-Service-Token": service_token}
    assert user_alone.put("/kept", headers=both).status_code == 201
    assert user_alone.put("/kept/o", content=b"service data", headers=both).status_code == 201
    assert user_alone.get("/kept/o", headers=both).content == b"service data"
    assert user_alone.get("/kept", headers=both).text.splitlines() == ["o"]
    # the user alone can neither read nor change nor delete it
    assert user_alone.get("/kept/o").status_code == 403
    assert user_alone.put("/kept/o", content=b"overwritten").status_code == 403
    assert user_alone.delete("/kept/o").status_code == 403
    # the service alone (its token is not the project's) is refused too
    service_alone = client(cloud, account, service_token)
    assert service_alone.get("/kept/o").status_code == 403
    # a user token as the service token gives no service role
    assert user_alone.get("/kept/o", headers={"X-Service-Token": swift.token}).status_code == 403
    assert user_alone.get("/kept/o", headers={"X-Service-Token": "not-a-token"}).status_code == 403
    # the project's own AUTH_ account is unchanged: the user alone operates it
    assert swift.http.put(f"/{name('c')}").status_code == 201


def test_another_projects_user_with_a_service_token_is_refused(cloud, admin, swift, service_token):
    other_project, other_user, other_token = member_of_new_project(cloud, admin)
    intruder = client(cloud, f"SERVICE_{swift.project['id']}", other_token)
    assert intruder.put("/planted", headers={"X-Service-Token": service_token}).status_code == 403


def test_swiftclient_with_a_service_token(cloud, admin, swift, service_token):
    """python-swiftclient's calls send ``X-Service-Token`` when given ``service_token``."""
    url = f"{cloud.url}/object-store/v1/SERVICE_{swift.project['id']}"
    swiftclient.client.put_container(url, swift.token, "images", service_token=service_token)
    swiftclient.client.put_object(url, swift.token, "images", "one", b"bytes", service_token=service_token)
    assert swiftclient.client.get_object(url, swift.token, "images", "one", service_token=service_token)[1] == \
        b"bytes"
    with pytest.raises(swiftclient.ClientException) as refused:
        swiftclient.client.get_object(url, swift.token, "images", "one")
    assert refused.value.http_status == 403


def test_reseller_admin_needs_no_service_token(cloud, admin, swift):
    user = make_user(admin)
    project, _, _ = member_of_new_project(cloud, admin)
    grant(admin, project["id"], user["id"], "ResellerAdmin")
    reseller = client(cloud, f"SERVICE_{swift.project['id']}",
                      cloud.token(user["name"], "secret-pass-1", project["name"]))
    assert reseller.put("/by-reseller").status_code == 201
