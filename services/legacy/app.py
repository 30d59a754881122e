"""A small legacy Flask app: it knows nothing about Joule."""

from flask import Flask, jsonify, request, url_for

application = Flask(__name__)


@application.get("/hello")
def hello():
    return jsonify(
        message="Hello from a legacy Flask app",
        script_name=request.environ.get("SCRIPT_NAME"),
        path_info=request.environ.get("PATH_INFO"),
        self_url=url_for("hello"),
        request_id=request.headers.get("X-Request-Id"),
        authorization=request.headers.get("Authorization"),
        cookie=request.headers.get("Cookie"),
    )


@application.post("/echo")
def echo():
    return jsonify(received=request.get_json(silent=True))
