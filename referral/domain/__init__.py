"""Pure business rules: plain values in, plain values out, domain errors raised.

Nothing here imports Flask, SQLAlchemy or any other part of the application.
"""
