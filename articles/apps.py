from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles and their analysis"

    def ready(self) -> None:
        from jobs.registry import TaskKind, register

        # The engine finds these jobs by name alone: it never imports this app.
        # Each kind tells its own ending in words (articles.outcomes), not the engine's generic notice.
        register(TaskKind("bulk_save", "articles.bulk_save.run_bulk_save_task", timeout=900,
                          outcome_path="articles.outcomes.describe_bulk_save",
                          results_path="articles.results.task_results"))
        # A big analysis runs as a group of chunks of its URLs, on every worker at once.
        register(TaskKind("bulk_analysis", "articles.analysis.run_bulk_analysis_task", timeout=3600,
                          outcome_path="articles.outcomes.describe_bulk_analysis",
                          results_path="articles.results.task_results",
                          chunk_param="urls", merge_path="articles.analysis.merge_chunks"))
        register(TaskKind("auto_ingest", "articles.auto_ingest.run_auto_ingest_task", timeout=3600,
                          outcome_path="articles.outcomes.describe_auto_ingest"))
        register(TaskKind("keyword_check", "articles.keyword_checks.run_keyword_check_task", timeout=1800,
                          outcome_path="articles.outcomes.describe_keyword_check"))
