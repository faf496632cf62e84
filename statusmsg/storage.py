"""Static files with hashed names (whitenoise), where a missing file costs a broken link, not a 500."""

import logging

from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed names; a file the manifest lacks (collectstatic not run) keeps its plain name."""

    def url(self, name, force=False):
        try:
            return super().url(name, force)
        except ValueError:
            # Every page links its styles and scripts: raising here would make every page a 500.
            logger.error("static file missing from the manifest name=%s; run manage.py collectstatic", name)
            return FileSystemStorage.url(self, name)
