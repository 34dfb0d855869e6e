"""The baseline for bench/redirect.py: a bare Flask app that only redirects."""

from flask import Flask, redirect

app = Flask(__name__)


@app.route("/r/<code>")
def follow(code: str):  # noqa: ANN201
    return redirect(f"/c/{code}", code=302)
