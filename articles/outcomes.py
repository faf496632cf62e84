"""How the article workloads' endings are told: one notice each, in sentences with the right plurals.

Registered per kind in ArticlesConfig.ready (TaskKind.outcome_path); jobs.outcomes calls them
in the transaction that ends the task. A partly failed analysis says so in its title, so the
notice never reads as a plain success.
"""

from jobs.models import Status, TaskInfo
from jobs.outcomes import NOTIFICATION_TYPES, VERBS, OutcomeNotice, counted, default_notice, first_line, sentences

from .results import reason_in_words


def _result(task: TaskInfo) -> dict:
    return task.result if isinstance(task.result, dict) else {}


def _notice(task: TaskInfo, title: str, *parts: str) -> OutcomeNotice | None:
    if task.owner_id is None or task.status not in NOTIFICATION_TYPES:
        return None
    return OutcomeNotice(task.owner, NOTIFICATION_TYPES[task.status], title, sentences(*parts) or "Nothing to report.",
                         f"/tasks/{task.pk}/")


def describe_bulk_analysis(task: TaskInfo) -> OutcomeNotice | None:
    """Tell an analysis's ending: "… completed with 3 of 40 failed", the counts, and the first failure's reason."""
    result = _result(task)
    total = task.total_items or len((task.params or {}).get("urls") or [])
    failed = int(result.get("failed") or 0)
    analyzed, skipped = int(result.get("analyzed") or 0), int(result.get("skipped") or 0)
    title = f"{task.name} {VERBS.get(task.status, task.status)}"
    if task.status == Status.COMPLETED and failed:
        title += f" with {failed} of {total} failed"
    counts = ", ".join(part for part in (
        f"{analyzed} analyzed" if analyzed or not (failed or skipped) else "",
        f"{skipped} skipped (already analyzed)" if skipped else "",
        f"{failed} failed" if failed and task.status != Status.FAILED else "",
    ) if part)
    error = first_line(task.error)
    errors = [entry for entry in result.get("errors") or [] if isinstance(entry, dict)]
    first_failure = f"First failure: {errors[0].get('url')}: {reason_in_words(str(errors[0].get('error')))}" \
        if errors else ""
    not_processed = int(result.get("not_processed") or 0)
    return _notice(
        task, title,
        error if task.status != Status.COMPLETED else "",
        counts if result else "",
        f"{counted(not_processed, 'URL')} not processed" if not_processed else "",
        first_failure,
    )


def describe_bulk_save(task: TaskInfo) -> OutcomeNotice | None:
    """Tell a bulk save's ending: saved, duplicate and refused articles in words."""
    result = _result(task)
    if not result:
        return default_notice(task)
    errors = [entry for entry in result.get("errors") or [] if isinstance(entry, dict)]
    saved, duplicates = int(result.get("saved") or 0), int(result.get("duplicates") or 0)
    title = f"{task.name} {VERBS.get(task.status, task.status)}"
    if task.status == Status.COMPLETED and errors:
        title += f" with {len(errors)} of {task.total_items} refused"
    counts = ", ".join(part for part in (
        f"{counted(saved, 'article')} saved",
        f"{counted(duplicates, 'duplicate')} skipped" if duplicates else "",
        f"{len(errors)} refused" if errors else "",
    ) if part)
    first_error = f"First refusal: {errors[0].get('url') or 'item ' + str(errors[0].get('index'))}: " \
                  f"{errors[0].get('error')}" if errors else ""
    return _notice(task, title, first_line(task.error) if task.status != Status.COMPLETED else "", counts,
                   first_error)


def describe_keyword_check(task: TaskInfo) -> OutcomeNotice | None:
    """Tell a keyword check's ending: articles checked and alerts raised."""
    result = _result(task)
    if not result:
        return default_notice(task)
    checked, alerts = int(result.get("checked") or 0), int(result.get("alerts_created") or 0)
    return _notice(
        task, f"{task.name} {VERBS.get(task.status, task.status)}",
        first_line(task.error) if task.status != Status.COMPLETED else "",
        f"{counted(checked, 'article')} checked, {counted(alerts, 'new alert')}",
    )


def describe_auto_ingest(task: TaskInfo) -> OutcomeNotice | None:
    """Tell of a completed run as "Auto-Collect Complete"; other endings as any task's.

    A scheduled run (no owner) speaks to everyone, and only when it found new articles:
    otherwise every user would hear, every hour, that it found nothing.
    """
    if task.status != Status.COMPLETED:
        return default_notice(task)
    result = _result(task)
    approved = int(result.get("approved") or 0)
    if task.owner_id is None and not approved:
        return None
    processed = int(result.get("processed") or 0)
    return OutcomeNotice(
        task.owner,  # None: everyone
        "auto_ingest_complete",
        "Auto-Collect Complete",
        f"Processed {counted(processed, 'new article')}: {approved} approved, "
        f"{int(result.get('rejected') or 0)} rejected, {int(result.get('failed') or 0)} failed.",
        link="/keyword-alerts",
    )
