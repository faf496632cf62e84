"""LOG_FORMAT=json: one JSON object per line, with the request id, the user and the task id where known."""

import json
import logging
from datetime import UTC, datetime

from . import log_context

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (("request_id", log_context.request_id.get()), ("user_id", log_context.user_id.get()),
                           ("task_id", log_context.task_id.get())):
            if value is not None:
                line[key] = value
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)
