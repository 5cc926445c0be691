import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# A web process starting (a deploy, a restart) serves no page rendered by the code before it.
from config import page_cache  # noqa: E402

page_cache.data_changed()
