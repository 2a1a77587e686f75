"""The web panel: a door beside ``api/`` for people (operators and customers).

Server-rendered Jinja2 pages, plain forms, vendored static files; every use case goes
through ``service/`` on the gateway's read/write helpers, like the APIs.
"""
