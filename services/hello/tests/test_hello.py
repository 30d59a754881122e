from platform_core.testing import platform_client


def test_hello_answers_under_its_prefix():
    with platform_client() as client:
        response = client.get("/hello/")
    assert response.status_code == 200
    assert response.json()["message"] == "Hello from Joule"
    assert response.json()["greet"] == "/hello/greet/world"


def test_greet_reads_its_path_argument():
    with platform_client() as client:
        assert client.get("/hello/greet/ada").json() == {"message": "Hello, ada!"}


def test_hello_reaches_legacy_through_the_mesh():
    with platform_client() as client:
        body = client.get("/hello/legacy").json()
    assert body["status"] == 200
    assert body["legacy"]["message"] == "Hello from a legacy Flask app"
