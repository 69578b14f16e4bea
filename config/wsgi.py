import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import every view (and what it imports) now rather than on each worker's first request:
# with gunicorn's preload_app the workers fork with it loaded, sharing those pages, and the
# first requests after a deploy or a worker restart are not the slow ones.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - the attribute access is the import
