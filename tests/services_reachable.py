"""Exit 0 if the PostgreSQL and Redis at the given URLs answer, 1 otherwise (used by make)."""

import socket
import sys
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    postgres_url, redis_url = sys.argv[1], sys.argv[2]
    ok = reachable(postgres_url, 5432) and reachable(redis_url, 6379)
    sys.exit(0 if ok else 1)
