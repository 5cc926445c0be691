from django.apps import AppConfig


class DeploymentConfig(AppConfig):
    """What belongs to the deployment rather than to one app: the page cache's write watch."""

    name = "config"
    label = "deployment"
    verbose_name = "Deployment"

    def ready(self) -> None:
        from . import page_cache  # noqa: F401 - watches every connection's writes
