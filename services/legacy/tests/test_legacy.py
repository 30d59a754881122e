from platform_core.testing import platform_client


def test_flask_app_sees_its_prefix_as_script_name():
    with platform_client() as client:
        body = client.get("/legacy/hello").json()
    assert body["script_name"] == "/legacy"
    assert body["path_info"] == "/hello"
    assert body["self_url"] == "/legacy/hello"


def test_flask_app_reads_a_json_body():
    with platform_client() as client:
        response = client.post("/legacy/echo", json={"a": 1})
    assert response.json() == {"received": {"a": 1}}
