"""Many people posting the same form at the same moment, each with their own session."""

from __future__ import annotations

import threading

from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client


def post_at_once(users, url: str, data: dict, *, language: str | None = None):
    """POST data to url from every user at once (a barrier releases them together).

    Return ([(status, [message level tags]) per request], [exceptions raised]).
    """
    clients = []
    for user in users:
        client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, list[str]]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def post(client: Client) -> None:
        try:
            barrier.wait(timeout=30)
            response = client.post(url, data)
            levels = [message.level_tag for message in get_messages(response.wsgi_request)]
            with lock:
                results.append((response.status_code, levels))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors
