"""The pages that start work from the browser: a new bulk analysis, and (staff) auto-ingest and its settings.

Thin views: the forms validate with the API's own rules, the use cases start the tasks, and
every start redirects to the new task's live page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from jobs.exceptions import TaskNotFound
from jobs.queries import get_task

from .analysis import start_bulk_analysis
from .auto_ingest import start_auto_ingest
from .exceptions import AutoIngestAlreadyRunning, NothingToRetry
from .forms import AutoIngestConfigForm, BulkAnalysisForm
from .models import AutoIngestConfig, FeedSource
from .results import task_results
from .retry import retry_failed

ANALYSIS_OPTIONS = ("topic", "summary_type", "model_name", "force")


def _task_page(task_id):
    return redirect("pages:task-detail", task_id=str(task_id))


def _staff_only(user) -> None:
    if not user.is_staff:
        raise PermissionDenied("Only staff may run auto-ingest or change its settings.")


@login_required
def analysis_new(request):
    """Show the new-analysis form; on a valid POST start the analysis and go to its task page."""
    if request.method == "POST":
        form = BulkAnalysisForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            task_id = start_bulk_analysis(data["urls"], owner=request.user,
                                          **{key: data[key] for key in ANALYSIS_OPTIONS if key in data})
            return _task_page(task_id)
    else:
        form = BulkAnalysisForm()
    return render(request, "articles/analysis_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def auto_ingest_settings(request):
    """(Staff) Show and change the auto-ingest settings, with the feeds it reads and a run button."""
    _staff_only(request.user)
    config = AutoIngestConfig.load()
    if request.method == "POST":
        form = AutoIngestConfigForm(request.POST, instance=config)
        if form.is_valid():
            form.save()
            messages.success(request, "Auto-ingest settings saved.")
            return redirect("articles-pages:auto-ingest")
    else:
        form = AutoIngestConfigForm(instance=config)
    return render(request, "articles/auto_ingest.html", {
        "form": form,
        "config": config,
        "feeds": FeedSource.objects.all(),
    }, status=400 if form.errors else 200)


@require_POST
@login_required
def run_auto_ingest(request):
    """(Staff) Start auto-ingest now and go to its task page (to the running one if one is going)."""
    _staff_only(request.user)
    try:
        task_id = start_auto_ingest(owner=request.user)
    except AutoIngestAlreadyRunning as busy:
        messages.info(request, "Auto-ingest is already running; here it is.")
        task_id = busy.task_id
    return _task_page(task_id)


@require_POST
@login_required
def retry_failed_page(request, task_id):
    """Start the retry of a finished analysis's failed URLs (the page's "Retry failed" button)."""
    try:
        retry_id = retry_failed(task_id, request.user)
    except TaskNotFound:
        raise Http404("No such task.") from None
    except NothingToRetry as nothing:
        messages.info(request, str(nothing))
        return _task_page(task_id)
    return _task_page(retry_id)


@login_required
def analysis_results(request, task_id):
    """Return the results fragment of a task (for the task page to load when the task ends)."""
    try:
        task = get_task(task_id, request.user)
    except TaskNotFound:
        raise Http404("No such task.") from None
    results = task_results(task)
    if results is None:
        return HttpResponse("", content_type="text/html; charset=utf-8")
    return HttpResponse(render_to_string(results["template"], {"results": results}, request=request))
