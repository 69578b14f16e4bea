import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import every view (and what it imports) now rather than on each worker's first request:
# with gunicorn's preload_app the workers fork with it loaded, sharing those pages, and the
# first requests after a deploy or a worker restart are not the slow ones.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - the attribute access is the import

# The same for what the first job and the first signature of each worker would load during a
# request: every app's Celery tasks, the broker's transport (Kombu imports it on the first publish)
# and Pillow's image plugins. Nothing here connects: no socket may cross the fork.
from celery import current_app  # noqa: E402
from django.utils.module_loading import autodiscover_modules  # noqa: E402
from kombu.transport import get_transport_cls  # noqa: E402
from PIL import Image  # noqa: E402

autodiscover_modules("tasks")
current_app.finalize()
get_transport_cls(current_app.conf.broker_url.partition("://")[0])
Image.preinit()
